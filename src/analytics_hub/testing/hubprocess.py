"""Run a real ``analytics-hub serve`` as a subprocess: for end-to-end tests and benchmarks.

The process is the installed command, started exactly as a user would, on a free loopback
port, with its own data directory. Keys are created through the same control store the
CLI and the server use: ``control.sqlite`` in the data directory, or the PostgreSQL
database of ``HUB_STORE`` (which several hubs may share).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from analytics_hub.auth.keys import KeyService
from analytics_hub.server.stores import open_control_store
from analytics_hub.settings import load_settings


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def create_key(
    data_dir: Path, tenant: str, role: str, *, env: Mapping[str, str] | None = None
) -> str:
    """Create an API key where a hub on ``data_dir`` looks for it.

    ``env`` is what the hub runs with on top of this process's environment (as
    :attr:`HubProcess.env`): its ``HUB_STORE`` (else this process's) chooses the control
    store as the hub does, so a ``postgresql://`` store gets the key in that database.
    """
    # None leaves HUB_STORE of this process's environment in force, as the hub inherits it.
    settings = load_settings(data_dir=data_dir, store=(env or {}).get("HUB_STORE"))
    store = open_control_store(settings)
    try:
        return KeyService(store).create(tenant, role, name="test")[1]
    finally:
        store.close()


@dataclass
class HubProcess:
    """A hub server subprocess. Use as a context manager or call start/stop."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    # 0: no gRPC listener, so that hubs started side by side do not compete for 4317;
    # pass ``free_port()`` to serve OTLP/gRPC and the native gRPC service.
    otlp_grpc_port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def grpc_target(self) -> str:
        """``host:port`` of the gRPC listener, for a gRPC channel."""
        if not self.otlp_grpc_port:
            raise RuntimeError("this hub serves no gRPC: start it with otlp_grpc_port set")
        return f"127.0.0.1:{self.otlp_grpc_port}"

    def create_key(self, tenant: str, role: str) -> str:
        """Create an API key in the control store this hub uses (see :func:`create_key`)."""
        return create_key(self.data_dir, tenant, role, env=self.env)

    def start(self, timeout: float = 60.0) -> HubProcess:
        """Start the server and wait until ``/readyz`` answers 200."""
        return self.launch().wait_ready(timeout)

    @property
    def _log_path(self) -> Path:
        return self.log_path or self.data_dir / "server.log"

    def launch(self) -> HubProcess:
        """Start the server process without waiting (then :meth:`wait_ready`).

        Several hubs launched before any is waited for start side by side, which is
        what a layout of role processes does.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HUB_LOG_FORMAT": "json", **self.env}
        log_path = self._log_path
        # Append: a restarted server's log follows the first one's.
        log = log_path.open("ab")
        cmd = [
            sys.executable,
            "-m",
            "analytics_hub.cli",
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--otlp-grpc-port",
            str(self.otlp_grpc_port),
        ]
        # Our own command with our own arguments: no untrusted input reaches the shell.
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        log.close()
        return self

    def wait_ready(self, timeout: float = 60.0) -> HubProcess:
        """Wait until the launched server's ``/readyz`` answers 200 (stop it if never)."""
        if self.proc is None:
            raise RuntimeError("the hub was not launched")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = self._log_path.read_text()[-4000:]
                raise RuntimeError(f"hub exited with {self.proc.returncode}:\n{log}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"hub did not become ready in {timeout} s")

    def stop(self, timeout: float = 30.0) -> int | None:
        """Stop gracefully (SIGTERM); kill if it does not stop in ``timeout``."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code

    def kill(self) -> None:
        """SIGKILL: the crash case."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __enter__(self) -> HubProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["HubProcess", "create_key", "free_port"]
