"""The gRPC server: OTLP/gRPC and the native ingest service, on ``otlp_grpc_port``.

It is a ``grpc.aio`` server in the event loop that runs the HTTP server (uvicorn's,
uvloop when installed: grpc.aio runs on any asyncio loop), started and stopped by the
app's lifespan, so that both front ends share the services, the pipeline and the
shutdown order: listeners stop before the pipeline drains.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import grpc.aio
import structlog

from analytics_hub.api.context import ApiServices
from analytics_hub.api.grpc import grpc_handlers
from analytics_hub.api.grpc.observed import ObservedCalls
from analytics_hub.ingest.framed import FramedReceiver
from analytics_hub.settings import Settings

log = structlog.get_logger(__name__)

# Calls in progress when the hub stops get this long to finish; then they are cancelled
# (an unacknowledged batch is resent by its client).
STOP_GRACE_SECONDS = 10.0
# As uvicorn's limit_concurrency for HTTP: beyond it, calls are refused
# (RESOURCE_EXHAUSTED) instead of piling up.
MAX_CONCURRENT_RPCS = 1000


def listen_address(host: str, port: int) -> str:
    """``host:port`` as gRPC wants it (an IPv6 address in brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def build_server(settings: Settings, services: ApiServices) -> grpc.aio.Server:
    """A gRPC server with every hub service registered (not yet listening)."""
    server = grpc.aio.server(
        options=[
            # Refuse a port another process holds, as the HTTP server does, instead of
            # sharing it (gRPC's default on Linux is SO_REUSEPORT).
            ("grpc.so_reuseport", 0),
            # The same bound as an HTTP body (after decompression).
            ("grpc.max_receive_message_length", settings.max_body_bytes),
        ],
        maximum_concurrent_rpcs=MAX_CONCURRENT_RPCS,
        interceptors=[ObservedCalls(services.metrics)],
    )
    server.add_generic_rpc_handlers(
        grpc_handlers(
            services.keys, services.otlp, services.otlp_metrics, FramedReceiver(services.ingest)
        )
    )
    return server


@asynccontextmanager
async def grpc_listener(settings: Settings, services: ApiServices) -> AsyncIterator[int | None]:
    """Serve gRPC while the block runs; yields the port, or None when turned off (port 0).

    Raises ``OSError`` when the port cannot be bound, so that the hub does not start
    half-way.
    """
    if not settings.otlp_grpc_port:
        yield None
        return
    server = build_server(settings, services)
    address = listen_address(settings.host, settings.otlp_grpc_port)
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise OSError(
            f"cannot listen for gRPC on {address} ({exc}); choose another port with "
            "--otlp-grpc-port or HUB_OTLP_GRPC_PORT, or 0 to turn gRPC off"
        ) from None
    await server.start()
    log.info("gRPC listening (OTLP/gRPC and analytics_hub.v1.IngestService)", address=address)
    try:
        yield port
    finally:
        await server.stop(STOP_GRACE_SECONDS)


__all__ = [
    "MAX_CONCURRENT_RPCS",
    "STOP_GRACE_SECONDS",
    "build_server",
    "grpc_listener",
    "listen_address",
]
