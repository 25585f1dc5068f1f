"""``GET /api/v1/stream``: the live feed over a WebSocket (``docs/api/stream.md``).

The adapter authenticates the connection (an ``Authorization: Bearer`` or ``x-api-key``
header, or, since browsers cannot set headers on a WebSocket, a first ``auth``
message), turns messages into subscriptions of :class:`~analytics_hub.query.live.LiveFeed`
and sends what the subscription's queue holds. One task sends, one receives: every
outgoing message goes through the queue, so sends never interleave and a client that
does not read holds a bounded queue, never more.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import anyio.to_thread
import structlog
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from analytics_hub.api.context import ApiServices
from analytics_hub.api.metrics import HubMetrics
from analytics_hub.api.websocket import protocol
from analytics_hub.auth.keys import Principal, Role
from analytics_hub.auth.presented import presented_key
from analytics_hub.errors import AuthenticationError, HubError
from analytics_hub.query.live import LiveFeed, Subscription

router = APIRouter(prefix="/api/v1")
log = structlog.get_logger(__name__)

#: how long a connection without a key header may take to send its ``auth`` message
AUTH_TIMEOUT_SECONDS = 10.0
#: how long the ``error`` message and the close may take before the connection is dropped
_CLOSE_TIMEOUT_SECONDS = 5.0


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """Authenticate, subscribe, then push events and metrics until either side leaves."""
    svc: ApiServices = websocket.app.state.services
    try:
        svc.live.admit()
    except HubError as exc:
        await websocket.accept()
        await _refuse(websocket, exc)
        return
    svc.metrics.stream_connections.inc()
    try:
        await _session(websocket, svc)
    finally:
        svc.metrics.stream_connections.dec()
        svc.live.release()


async def _session(websocket: WebSocket, svc: ApiServices) -> None:
    await websocket.accept()
    try:
        principal = await _authenticate(websocket, svc)
        spec = protocol.initial_subscription(
            websocket.query_params.getlist("filter"), websocket.query_params
        )
    except HubError as exc:
        await _refuse(websocket, exc)
        return
    except WebSocketDisconnect:
        return
    sub = svc.live.open(principal.tenant_id, spec)
    try:
        sub.put_notice(protocol.ready(principal.tenant_id, spec, svc.live.queue_events))
        await _serve(websocket, svc.live, sub, svc.metrics)
    finally:
        svc.live.close(sub)


async def _authenticate(websocket: WebSocket, svc: ApiServices) -> Principal:
    """The caller of a key header, or of the first message (``auth``)."""
    headers = websocket.headers
    if headers.get("authorization") or headers.get("x-api-key"):
        key = presented_key(
            headers.get("authorization"), headers.get("x-api-key"), carrier="header"
        )
    else:
        try:
            message = await asyncio.wait_for(websocket.receive(), AUTH_TIMEOUT_SECONDS)
        except TimeoutError:
            raise AuthenticationError(
                f"no credential within {AUTH_TIMEOUT_SECONDS:g} s: send "
                '{"type": "auth", "key": "<api key>"} first'
            ) from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        decoded = _decoded(message)
        if not isinstance(decoded, protocol.Auth):
            raise AuthenticationError(
                'authenticate first: send {"type": "auth", "key": "<api key>"} '
                "(or the header 'Authorization: Bearer <api key>')"
            )
        key = decoded.key
    # The key lives in the control store: look it up off the event loop, as REST does.
    principal: Principal = await anyio.to_thread.run_sync(svc.keys.authenticate, key)
    principal.require(Role.READ)
    return principal


def _decoded(message: Mapping[str, Any]) -> protocol.ClientMessage:
    text, data = message.get("text"), message.get("bytes")
    if isinstance(text, str):
        return protocol.decode(text)
    if isinstance(data, bytes):
        return protocol.decode(data)
    return protocol.decode(b"")


async def _serve(websocket: WebSocket, live: LiveFeed, sub: Subscription, m: HubMetrics) -> None:
    receiver = asyncio.create_task(_receive(websocket, live, sub))
    sender = asyncio.create_task(_send(websocket, sub, m))
    try:
        done, _ = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
    finally:  # either side ending (or the server stopping) ends both
        for task in (receiver, sender):
            task.cancel()
        await asyncio.gather(receiver, sender, return_exceptions=True)
    failures = [t.exception() for t in (receiver, sender) if t in done and not t.cancelled()]
    failure = next((f for f in failures if f is not None), None)
    if isinstance(failure, HubError):
        await _refuse(websocket, failure)  # a bad message or filter: say why, then close
    elif failure is not None and not isinstance(failure, WebSocketDisconnect | OSError):
        log.error("live connection failed", exc_info=failure)
        await _refuse(websocket, HubError("the hub failed; reconnect"))


async def _receive(websocket: WebSocket, live: LiveFeed, sub: Subscription) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        decoded = _decoded(message)
        if isinstance(decoded, protocol.Subscribe):
            spec = protocol.subscription(decoded)
            live.change(sub, spec, protocol.subscribed(spec))
        elif isinstance(decoded, protocol.Ping):
            sub.put_notice(protocol.encode({"type": "pong", "server_time": protocol.now_text()}))
        # a second ``auth`` changes nothing: the connection keeps its first identity


async def _send(websocket: WebSocket, sub: Subscription, m: HubMetrics) -> None:
    while True:
        out = await sub.get()
        await websocket.send_text(out.text)
        if out.kind == "events":
            m.stream_events_sent.inc(out.events)
        elif out.kind == "dropped":
            m.stream_events_dropped.inc(out.events)


async def _refuse(websocket: WebSocket, exc: HubError) -> None:
    """Send the ``error`` message, then close with the code of ``exc``."""
    with contextlib.suppress(Exception):  # the client may be gone already
        async with asyncio.timeout(_CLOSE_TIMEOUT_SECONDS):
            await websocket.send_text(protocol.error(exc))
            await websocket.close(protocol.close_code(exc), protocol.close_reason(exc.message))


__all__ = ["AUTH_TIMEOUT_SECONDS", "router"]
