"""A throw-away Redis Cluster of real ``redis-server`` processes on loopback.

The production layout in miniature: three masters and a replica each, made with
``redis-cli --cluster create … --cluster-replicas 1``. ``RedisClusterNodes(directory)
.start()`` runs the six servers on free ports (each port ``P`` chosen so that its
cluster bus port ``P + 10000`` is free too), creates the cluster and waits until every
node reports ``cluster_state:ok`` and every replica has synced. ``kill(i)`` SIGKILLs
node ``i`` (its replica takes over after ``node_timeout_ms``); ``stop()`` ends the
processes this object started, by their pids, never by name.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from redis import Redis

from analytics_hub.testing.redisserver import RedisServer, free_port, redis_binaries

_BUS_OFFSET = 10_000  # Redis Cluster's bus listens on the client port + 10000


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def cluster_ports(count: int) -> list[int]:
    """``count`` distinct free ports whose bus ports (+10000) are free as well."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port + _BUS_OFFSET > 65535 or port in ports or not _port_free(port + _BUS_OFFSET):
            continue
        ports.append(port)
    return ports


class RedisClusterNodes:
    """``masters`` masters with ``replicas`` replicas each, data and logs under
    ``directory``."""

    def __init__(
        self,
        directory: Path,
        *,
        masters: int = 3,
        replicas: int = 1,
        node_timeout_ms: int = 2000,
    ) -> None:
        found = redis_binaries()
        if found is None:
            raise FileNotFoundError("redis-server and redis-cli must be on PATH")
        self._cli = found[1]
        self._replicas = replicas
        self.nodes: list[RedisServer] = []
        for i, port in enumerate(cluster_ports(masters * (1 + replicas))):
            home = directory / f"n{i}"
            options = (
                "--cluster-enabled", "yes",
                "--cluster-config-file", str(home / "nodes.conf"),
                "--cluster-node-timeout", str(node_timeout_ms),
                # Replicas sync at once (the default waits 5 s for more replicas): a
                # replica that never synced cannot take over from its master.
                "--repl-diskless-sync-delay", "0",
            )  # fmt: skip
            self.nodes.append(RedisServer(home, port, binary=found[0], extra=options))

    @property
    def url(self) -> str:
        """The hub's cache URL for this cluster (every node listed)."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def start(self, timeout: float = 60.0) -> RedisClusterNodes:
        """Start every node, create the cluster, wait until it serves every slot.

        On failure the nodes started so far are stopped (a ``with`` block whose start
        fails never reaches its exit).
        """
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        for node in self.nodes:
            node.start()
        created = subprocess.run(  # noqa: S603 - our own arguments, no shell
            [
                self._cli, "--cluster", "create",
                *(f"127.0.0.1:{n.port}" for n in self.nodes),
                "--cluster-replicas", str(self._replicas), "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )  # fmt: skip
        if created.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout[-2000:]}")
        self.wait_ok(timeout)

    def wait_ok(self, timeout: float, nodes: list[int] | None = None) -> None:
        """Until each node (of ``nodes``, default all running) says ``cluster_state:ok``,
        knows all the others and, if it is a replica, has synced with its master."""
        indexes = nodes if nodes is not None else self.running()
        deadline = time.monotonic() + timeout
        while not all(self._ok(i) for i in indexes):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the Redis Cluster was not ok within {timeout} s")
            time.sleep(0.1)

    def running(self) -> list[int]:
        """Indexes of the nodes whose process is running."""
        return [i for i, n in enumerate(self.nodes) if n.process is not None]

    def masters(self) -> list[int]:
        """Indexes of the running nodes that are masters now."""
        return [i for i in self.running() if self._role(i) == "master"]

    def kill(self, index: int) -> None:
        """SIGKILL node ``index`` (a crash)."""
        self.nodes[index].kill()

    def restart(self, index: int) -> None:
        """Start node ``index`` again; it rejoins from its nodes.conf (as a replica if its
        slots moved meanwhile)."""
        self.nodes[index].start()

    def stop(self) -> None:
        """Terminate every node this object started."""
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> RedisClusterNodes:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _client(self, index: int) -> Redis:
        return Redis(port=self.nodes[index].port, socket_timeout=1, socket_connect_timeout=1)

    def _ok(self, index: int) -> bool:
        try:
            with self._client(index) as client:
                info = client.execute_command("CLUSTER INFO")
        except Exception:  # not up yet, refused, loading: ask again
            return False
        if isinstance(info, dict):  # redis-py parses the reply
            fields = {_text(k): _text(v) for k, v in info.items()}
        else:
            text = _text(info)
            fields = dict(line.split(":", 1) for line in text.split() if ":" in line)
        return (
            fields.get("cluster_state") == "ok"
            and fields.get("cluster_slots_assigned") == "16384"
            and int(fields.get("cluster_known_nodes", "0")) >= len(self.nodes)
            and self._synced(index)
        )

    def _synced(self, index: int) -> bool:
        """A master, or a replica whose link to its master is up (it has synced)."""
        with self._client(index) as client:
            role = client.execute_command("ROLE")
        return _text(role[0]) == "master" or _text(role[3]) == "connected"

    def _role(self, index: int) -> str:
        with self._client(index) as client:
            role = client.execute_command("ROLE")
        return _text(role[0])


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


__all__ = ["RedisClusterNodes", "cluster_ports"]
