"""A private PostgreSQL server for fault tests: started, stopped and restarted at will.

The tests that restart PostgreSQL must not touch the server other tests use, so this
runs one of its own: ``initdb`` into a temporary directory, ``postgres`` on a free
loopback port, owned by the test (stopped by its pid). When the tests run as root the
server runs as the ``postgres`` user, as PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def postgres_bin_dir() -> Path | None:
    """The directory of ``initdb`` and ``postgres`` (Debian keeps them off the PATH)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PostgresServer:
    """One throw-away PostgreSQL server on ``127.0.0.1:port``, trusting local users."""

    def __init__(self) -> None:
        bindir = postgres_bin_dir()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, postgres) are not installed")
        self._bin = bindir
        # Its own temporary directory: the server's user must reach it, and test
        # directories are private to the user running the tests.
        self.directory = Path(tempfile.mkdtemp(prefix="hub-pg-"))
        self.port = _free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        # Popen drops to this user itself, so that the pid we signal is the server's.
        self._user = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> PostgresServer:
        """Create the cluster's files."""
        if self._user:
            shutil.chown(self.directory, "postgres", "postgres")
        subprocess.run(  # noqa: S603 - our own arguments
            [
                str(self._bin / "initdb"), "-D", str(self.directory / "data"), "-U", "postgres",
                "--auth=trust", "--no-sync", "-E", "UTF8",
            ],
            check=True,
            capture_output=True,
            user=self._user,
            group=self._user,
            extra_groups=[] if self._user else None,
            cwd=self.directory,
        )  # fmt: skip
        return self

    def start(self, timeout: float = 30.0) -> PostgresServer:
        """Start the server and wait until it accepts connections."""
        log = (self.directory / "server.log").open("ab")
        self._proc = subprocess.Popen(  # noqa: S603 - our own arguments
            [
                str(self._bin / "postgres"), "-D", str(self.directory / "data"),
                "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
                "-c", f"unix_socket_directories={self.directory}", "-c", "max_connections=200",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            user=self._user,
            group=self._user,
            extra_groups=[] if self._user else None,
            cwd=self.directory,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=1):
                    return self
            except psycopg.OperationalError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL did not start: {(self.directory / 'server.log').read_text()}"
                    ) from None
                time.sleep(0.1)

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT): connections are cut, committed data is kept."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> PostgresServer:
        return self.init().start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server and delete its files."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


__all__ = ["PostgresServer", "postgres_bin_dir"]
