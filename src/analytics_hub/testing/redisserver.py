"""A throw-away ``redis-server`` process on a loopback port, for fault tests and benchmarks.

``RedisServer(directory).start()`` runs a server without persistence on a free port;
``kill()`` SIGKILLs it (a crash), ``start()`` again brings it back on the same port, and
``stop()`` ends it. Only the process this object started is ever signalled, by its pid.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_binaries() -> tuple[str, str] | None:
    """Paths of ``redis-server`` and ``redis-cli``, or None when either is missing."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    return (server, cli) if server and cli else None


def ping(port: int, timeout: float = 0.5) -> bool:
    """Whether a Redis server on ``127.0.0.1:port`` answers PING (raw RESP, no client)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server``: no RDB, no AOF, bound to 127.0.0.1, files under ``directory``.

    ``extra`` arguments are appended to the command line (cluster options, say).
    """

    def __init__(
        self,
        directory: Path,
        port: int | None = None,
        *,
        extra: tuple[str, ...] = (),
        binary: str | None = None,
    ) -> None:
        found = binary or shutil.which("redis-server")
        if found is None:
            raise FileNotFoundError("redis-server is not on PATH")
        self._binary = found
        self.directory = directory
        self.port = port or free_port()
        self._extra = extra
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> RedisServer:
        """Start the server (if it is not running) and wait until it answers PING."""
        if self.process is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._log = (self.directory / f"redis-{self.port}.log").open("ab")
            self.process = subprocess.Popen(  # noqa: S603 - our own arguments, no shell
                [
                    self._binary, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--dir", str(self.directory), "--save", "", "--appendonly", "no",
                    "--daemonize", "no", *self._extra,
                ],
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not ping(self.port):
            if self.process.poll() is not None:
                code = self.process.returncode
                self._ended()
                raise RuntimeError(f"redis-server on port {self.port} exited with {code}")
            if time.monotonic() > deadline:
                self.stop()  # a with block whose start fails never reaches its exit
                raise TimeoutError(f"redis-server on port {self.port} did not answer")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL the server (nothing is saved: it comes back empty)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
        self._ended()

    def stop(self) -> None:
        """Terminate the server this object started, then close its log."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._ended()

    def _ended(self) -> None:
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = ["RedisServer", "free_port", "ping", "redis_binaries"]
