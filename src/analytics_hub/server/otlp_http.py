"""The dedicated OTLP/HTTP listener (``otlp_http_port``, conventionally 4318).

OTLP/HTTP is always served on the main port too; this second listener exists for
exporters configured with the conventional port. It serves only the OTLP routes, from
a small app sharing the hub's services, through a second uvicorn server in the same
event loop, started and stopped by the hub's lifespan. The main server owns the
process's signals: this one leaves them alone and stops when the lifespan ends.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import structlog
import uvicorn
from fastapi import FastAPI

from analytics_hub.api.context import ApiServices
from analytics_hub.api.errors import install_error_handlers
from analytics_hub.api.middleware import RequestMetricsMiddleware
from analytics_hub.api.rest import otlp
from analytics_hub.settings import Settings

log = structlog.get_logger(__name__)


class _CompanionServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the hub's main server."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def otlp_http_app(services: ApiServices) -> FastAPI:
    """An app of the OTLP routes alone (``/v1/traces``, ``/v1/logs``, ``/v1/metrics``)."""
    app = FastAPI(
        title="LLM Analytics Hub (OTLP/HTTP)", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.services = services
    install_error_handlers(app)
    app.add_middleware(RequestMetricsMiddleware, metrics=services.metrics)
    app.include_router(otlp.router)
    return app


def _bind(host: str, port: int) -> socket.socket:
    # Bound here rather than by uvicorn, which exits the process on a bind error: an
    # OSError lets the lifespan fail and the hub shut down in order.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        raise OSError(
            f"cannot listen for OTLP/HTTP on {host}:{port} ({exc.strerror}); choose another "
            "port with --otlp-http-port or HUB_OTLP_HTTP_PORT, or 0 to turn it off"
        ) from None


@asynccontextmanager
async def otlp_http_listener(settings: Settings, services: ApiServices) -> AsyncIterator[None]:
    """Serve OTLP/HTTP on ``settings.otlp_http_port`` while the block runs (0: not at all)."""
    if not settings.otlp_http_port:
        yield
        return
    sock = _bind(settings.host, settings.otlp_http_port)
    config = uvicorn.Config(
        otlp_http_app(services),
        lifespan="off",  # the main server runs the hub's lifespan
        log_config=None,
        access_log=False,
        timeout_keep_alive=30,
        limit_concurrency=1000,
        timeout_graceful_shutdown=30,
    )
    server = _CompanionServer(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if serving.done():
                serving.result()  # raises what stopped it
                raise OSError(f"the OTLP/HTTP listener on port {settings.otlp_http_port} stopped")
            await asyncio.sleep(0.01)
        log.info("OTLP/HTTP listening", address=f"{settings.host}:{settings.otlp_http_port}")
        yield
    finally:
        server.should_exit = True
        if not serving.done():
            await serving  # lets the requests in progress finish
        sock.close()


__all__ = ["otlp_http_app", "otlp_http_listener"]
