"""The API key a caller presents: ``Authorization: Bearer <key>`` or ``x-api-key: <key>``.

HTTP headers and gRPC call metadata carry it the same way (OTLP exporters can only add
custom headers), so both protocols read it here and word their errors alike.
"""

from __future__ import annotations

from analytics_hub.errors import AuthenticationError


def presented_key(authorization: str | None, api_key: str | None, *, carrier: str) -> str:
    """The key from the two header values, or ``AuthenticationError`` saying what to send.

    ``carrier`` names where the values came from in messages (``header``, ``metadata``).
    """
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError(f"use the {carrier} 'Authorization: Bearer <api key>'")
        return token.strip()
    if api_key and api_key.strip():
        return api_key.strip()
    raise AuthenticationError(
        f"missing credential: send the {carrier} 'Authorization: Bearer <api key>' "
        f"(or 'x-api-key: <api key>')"
    )


__all__ = ["presented_key"]
