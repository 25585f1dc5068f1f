"""Pure pieces of the HTTP exchange: encoding, compression, reading answers, Retry-After.

Nothing here performs I/O; :mod:`analytics_hub.client.core` combines these into the
request/response exchanges that the sync and async transports drive.
"""

from __future__ import annotations

import email.utils
import gzip
import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import msgspec
import zstandard

from analytics_hub.client.errors import HubClientError

Compression = Literal["gzip", "zstd"]

#: Statuses that mean "try again later". 502 and 504 are what a load balancer in front of
#: the hub answers while a node restarts, so they are transient in the same way.
RETRY_STATUSES: frozenset[int] = frozenset({429, 502, 503, 504})

#: The transport failures worth retrying: the request may not have reached the server.
RETRYABLE_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.NetworkError,
    httpx.TimeoutException,
    httpx.RemoteProtocolError,
)


def _enc_hook(obj: Any) -> Any:
    # msgspec encodes dicts natively; other mappings (MappingProxyType, custom classes)
    # and sets are converted here rather than rejected.
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=str)
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


# Decimals as JSON numbers: costs sent as Decimal must arrive as numbers, not strings.
_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook, decimal_format="number")


def encode_event(event: Mapping[str, Any] | bytes, index: int) -> bytes:
    """One event as JSON bytes; ``bytes`` must already hold one JSON object."""
    if isinstance(event, bytes | bytearray | memoryview):
        raw = bytes(event).strip()
        if not (raw.startswith(b"{") and raw.endswith(b"}")):
            raise TypeError(f"event {index}: bytes must hold exactly one JSON object")
        return raw
    if isinstance(event, Mapping):
        try:
            return _ENCODER.encode(event)
        except (TypeError, msgspec.EncodeError) as exc:
            raise TypeError(f"event {index}: {exc}") from exc
    raise TypeError(f"event {index}: expected a mapping or bytes, got {type(event).__name__}")


def iter_batches(
    events: Iterable[Mapping[str, Any] | bytes], batch_size: int, max_batch_bytes: int
) -> Iterator[tuple[int, list[bytes]]]:
    """Encoded events in batches, each with the stream index of its first event.

    A batch closes at ``batch_size`` events or before it would pass ``max_batch_bytes``
    (so that huge events do not push a body over the server's size limit); a batch always
    holds at least one event.
    """
    batch: list[bytes] = []
    size = 0
    offset = 0
    for index, event in enumerate(events):
        encoded = encode_event(event, index)
        if batch and (len(batch) >= batch_size or size + len(encoded) + 1 > max_batch_bytes):
            yield offset, batch
            offset += len(batch)
            batch, size = [], 0
        batch.append(encoded)
        size += len(encoded) + 1
    if batch:
        yield offset, batch


def array_body(encoded: list[bytes]) -> bytes:
    """A JSON array of already-encoded objects."""
    return b"[" + b",".join(encoded) + b"]"


def compress(body: bytes, compression: Compression | None) -> bytes:
    """Compress a body for the ``Content-Encoding`` named by ``compression``."""
    if compression == "gzip":
        # Level 5 is close to 9's ratio on JSON at a fraction of the CPU; mtime=0 keeps
        # the output deterministic.
        return gzip.compress(body, compresslevel=5, mtime=0)
    if compression == "zstd":
        # A compressor per call: they are not thread-safe, and creating one is cheap.
        return zstandard.ZstdCompressor(level=3).compress(body)
    return body


def json_body(query: Mapping[str, Any]) -> bytes:
    """A request body for a JSON object."""
    return _ENCODER.encode(query)


def param_value(value: object) -> str:
    """A query-string value: datetimes as RFC 3339 UTC, everything else as text."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_json(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 2xx answer; raise :class:`HubClientError` for anything else."""
    if not response.is_success:
        raise error_from_response(response)
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError as exc:
        raise HubClientError(
            response.status_code, "invalid_response", f"the answer is not JSON: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise HubClientError(
            response.status_code, "invalid_response", "the answer is not a JSON object"
        )
    return data


def error_from_response(response: httpx.Response) -> HubClientError:
    """A :class:`HubClientError` from the server's error envelope.

    Answers that are not the envelope (a proxy's HTML page, say) still give a usable
    error: the code is ``http_<status>`` and the message starts with the body.
    """
    status, code, message, details = envelope_fields(response)
    return HubClientError(status, code, message, details)


def envelope_fields(response: httpx.Response) -> tuple[int, str, str, object | None]:
    """``(status, code, message, details)`` of an error answer (see :func:`error_from_response`)."""
    status = response.status_code
    try:
        data = response.json()
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return status, error["code"], str(error.get("message", "")), error.get("details")
    snippet = response.text[:200].strip() if response.content else ""
    message = response.reason_phrase or "error"
    return status, f"http_{status}", f"{message}: {snippet}" if snippet else message, None


def retry_after_seconds(response: httpx.Response, *, now: float) -> float | None:
    """The wait asked by ``Retry-After`` (delay-seconds or an HTTP-date), or None.

    An HTTP-date is measured against the answer's own ``Date`` header when it has one, so
    that a skewed local clock does not turn "in 5 s" into "now" or "in an hour";
    ``now`` (epoch seconds) is the fallback.
    """
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        when = _http_date(value)
        if when is None:
            return None
        server_now = _http_date(response.headers.get("date", ""))
        reference = server_now if server_now is not None else now
        seconds = when - reference
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _http_date(value: str) -> float | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


__all__ = [
    "RETRYABLE_ERRORS",
    "RETRY_STATUSES",
    "Compression",
    "array_body",
    "compress",
    "encode_event",
    "envelope_fields",
    "error_from_response",
    "iter_batches",
    "json_body",
    "param_value",
    "read_json",
    "retry_after_seconds",
]
