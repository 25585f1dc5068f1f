"""The caller of a gRPC call, from its metadata: as the HTTP API, from the API key.

OTLP exporters send custom headers as call metadata, so the same two forms work:
``authorization: Bearer <key>`` or ``x-api-key: <key>``. The tenant is the key's.
"""

from __future__ import annotations

from typing import Protocol

from analytics_hub.api.grpc.status import Metadata
from analytics_hub.auth.keys import Principal, Role
from analytics_hub.auth.presented import presented_key


class KeyVerifier(Protocol):
    """What the servicers need of ``KeyService``."""

    def authenticate(self, key: str) -> Principal: ...


def metadata_key(metadata: Metadata | None) -> str:
    """The API key of the call, or ``AuthenticationError`` (UNAUTHENTICATED)."""
    values: dict[str, str] = {}
    for name, value in metadata or ():
        # gRPC lower-cases metadata keys; binary ("-bin") values are never a credential
        if isinstance(value, str):
            values.setdefault(name.lower(), value)
    return presented_key(values.get("authorization"), values.get("x-api-key"), carrier="metadata")


def caller(keys: KeyVerifier, metadata: Metadata | None, role: Role) -> Principal:
    """The verified caller, who must have ``role`` (PERMISSION_DENIED otherwise).

    The key lookup is a read of the control store (SQLite, microseconds), done once per
    call (once per stream), so it runs on the event loop rather than paying a thread hop.
    """
    principal = keys.authenticate(metadata_key(metadata))
    principal.require(role)
    return principal


__all__ = ["KeyVerifier", "caller", "metadata_key"]
