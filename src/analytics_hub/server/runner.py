"""Run the hub's HTTP server (uvicorn) in the foreground until interrupted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import uvicorn

from analytics_hub.server.app import create_app
from analytics_hub.server.logging import configure_logging
from analytics_hub.settings import Settings


class HubServer:
    """The uvicorn server of one hub; ``url`` is known once it has started."""

    def __init__(self, settings: Settings) -> None:
        configure_logging(settings.log_format, settings.log_level)
        self.settings = settings
        app = create_app(settings)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            loop="auto",
            http="auto",
            lifespan="on",
            log_config=None,
            access_log=False,
            timeout_keep_alive=30,
            # Bodies are read by our own bounded reader; this caps connection count.
            limit_concurrency=1000,
            timeout_graceful_shutdown=30,
        )
        self._server = uvicorn.Server(config)

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    @property
    def url(self) -> str:
        """The base URL, with the real port when the settings asked for port 0."""
        port = self.settings.port
        for srv in getattr(self._server, "servers", []):
            for sock in srv.sockets:
                port = sock.getsockname()[1]
                break
        host = self.settings.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - display only
        return f"http://{shown}:{port}"

    def run(self, on_started: Callable[[HubServer], None] | None = None) -> None:
        """Serve until SIGINT/SIGTERM; call ``on_started`` (in a thread) once listening."""
        if on_started is not None:

            def wait_then_call() -> None:
                while not self._server.started and not self._server.should_exit:
                    time.sleep(0.05)
                if self._server.started:
                    on_started(self)

            threading.Thread(target=wait_then_call, name="hub-started", daemon=True).start()
        self._server.run()

    def stop(self) -> None:
        """Ask the server to shut down gracefully."""
        self._server.should_exit = True


__all__ = ["HubServer"]
