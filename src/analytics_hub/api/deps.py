"""Request dependencies: the caller's identity and the role checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from analytics_hub.api.context import services
from analytics_hub.auth.keys import Principal, Role
from analytics_hub.auth.presented import presented_key


def _presented_key(request: Request) -> str:
    headers = request.headers
    return presented_key(headers.get("authorization"), headers.get("x-api-key"), carrier="header")


def authenticate(request: Request) -> Principal:
    """The verified caller, from ``Authorization: Bearer`` or ``x-api-key``; counted
    against its key's rate limit when one is set (``RateLimitedError``, 429, over it)."""
    hub = services(request)
    principal = hub.keys.authenticate(_presented_key(request))
    if hub.rate_limiter is not None:
        hub.rate_limiter.check(principal)
    return principal


def _needs(role: Role) -> object:
    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        principal.require(role)
        return principal

    return Depends(check)


def public_or_authenticated(request: Request) -> None:
    """Let public paths through; require a valid key on the others."""
    if request.url.path not in services(request).public_paths:
        authenticate(request)


Caller = Annotated[Principal, Depends(authenticate)]
IngestCaller = Annotated[Principal, _needs(Role.INGEST)]
ReadCaller = Annotated[Principal, _needs(Role.READ)]
AdminCaller = Annotated[Principal, _needs(Role.ADMIN)]

__all__ = [
    "AdminCaller",
    "Caller",
    "IngestCaller",
    "ReadCaller",
    "authenticate",
    "public_or_authenticated",
]
