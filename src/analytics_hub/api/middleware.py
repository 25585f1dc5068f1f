"""Counts HTTP requests by route template and status (pure ASGI: no body buffering)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from analytics_hub.api.metrics import HubMetrics


class RequestMetricsMiddleware:
    """Counts every HTTP request by method, route template and status code."""

    def __init__(self, app: ASGIApp, metrics: HubMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            # The template, not the raw path: ids in paths must not become label values.
            path = getattr(route, "path", "unmatched")
            self.metrics.http_requests.labels(scope["method"], path, str(status)).inc()


__all__ = ["RequestMetricsMiddleware"]
