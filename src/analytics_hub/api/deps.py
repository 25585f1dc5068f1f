"""Request dependencies: the caller's identity and the role checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from analytics_hub.api.context import services
from analytics_hub.auth.keys import Principal, Role
from analytics_hub.errors import AuthenticationError


def _presented_key(request: Request) -> str:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("use 'Authorization: Bearer <api key>'")
        return token.strip()
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    raise AuthenticationError(
        "missing credential: send 'Authorization: Bearer <api key>' (or an 'x-api-key' header)"
    )


def authenticate(request: Request) -> Principal:
    """The verified caller, from ``Authorization: Bearer`` or ``x-api-key``."""
    return services(request).keys.authenticate(_presented_key(request))


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
