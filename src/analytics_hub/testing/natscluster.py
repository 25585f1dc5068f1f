"""A throw-away NATS JetStream cluster of real ``nats-server`` processes on loopback.

For fault tests and benchmarks: ``NatsCluster(directory).start()`` runs ``size`` servers
on free ports (one store directory each, one cluster named ``hub``, every node routing to
the others) and waits until JetStream answers. ``kill(i)`` sends SIGKILL to node ``i``;
``stop()`` ends the processes this object started, by their pids, never by name.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

import nats


@dataclass(slots=True)
class NatsNode:
    """One server of the cluster."""

    name: str
    port: int
    cluster_port: int
    store: Path
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsCluster:
    """``size`` JetStream servers clustered on loopback, their data under ``directory``."""

    def __init__(self, directory: Path, size: int = 3, binary: str | None = None) -> None:
        found = binary or shutil.which("nats-server")
        if found is None:
            raise FileNotFoundError("nats-server is not on PATH")
        self._binary = found
        self._dir = directory
        self.nodes = [
            NatsNode(f"n{i}", free_port(), free_port(), directory / f"n{i}") for i in range(size)
        ]

    @property
    def urls(self) -> list[str]:
        """Client URLs of every node."""
        return [n.url for n in self.nodes]

    def start(self, timeout: float = 30.0) -> NatsCluster:
        """Start every node and wait until the cluster's JetStream answers."""
        for node in self.nodes:
            self._start(node)
        self.wait_ready(timeout)
        return self

    def kill(self, index: int) -> None:
        """SIGKILL node ``index`` (a crash: nothing flushed, nothing said to the others)."""
        node = self.nodes[index]
        if node.process is not None:
            node.process.kill()
            node.process.wait(10)
            node.process = None

    def restart(self, index: int) -> None:
        """Start node ``index`` again on its ports and store (it catches up from its peers)."""
        node = self.nodes[index]
        if node.process is None:
            self._start(node)

    def stop(self) -> None:
        """Terminate the nodes this cluster started, then close their logs."""
        for node in self.nodes:
            if node.process is not None:
                node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(10)
                node.process = None
            if node.log is not None:
                node.log.close()
                node.log = None

    def wait_ready(self, timeout: float) -> None:
        """Until JetStream of the cluster answers an account-info request."""

        async def ask() -> bool:
            try:
                nc = await nats.connect(servers=self.urls, connect_timeout=1)
            except Exception:
                return False
            try:
                await nc.jetstream(timeout=1).account_info()
                return True
            except Exception:
                return False
            finally:
                await nc.close()

        deadline = time.monotonic() + timeout
        while not asyncio.run(ask()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the NATS cluster was not ready within {timeout} s")
            time.sleep(0.2)

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _start(self, node: NatsNode) -> None:
        node.store.mkdir(parents=True, exist_ok=True)
        routes = ",".join(
            f"nats://127.0.0.1:{other.cluster_port}" for other in self.nodes if other is not node
        )
        node.log = (self._dir / f"{node.name}.log").open("ab")
        node.process = subprocess.Popen(  # noqa: S603 - our own arguments, no shell
            [
                self._binary, "-js", "-sd", str(node.store), "-n", node.name,
                "-a", "127.0.0.1", "-p", str(node.port),
                "--cluster_name", "hub",
                "--cluster", f"nats://127.0.0.1:{node.cluster_port}",
                "--routes", routes,
            ],
            stdout=node.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


__all__ = ["NatsCluster", "NatsNode", "free_port"]
