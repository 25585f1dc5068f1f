"""Trace context of OTLP items: id checks and the event ids derived from them.

A span's ``event_id`` is derived from its trace and span ids, so that an exporter's
retry of a batch (OTLP exporters retry on 429/503 and on timeouts) is not counted twice,
and so that a child span's ``parent_event_id`` can name its parent's event without the
parent being in the same request. Derived ids are RFC 9562 version 8 UUIDs (the
"custom" version): 122 bits of a BLAKE2b digest of the inputs.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Sequence

from analytics_hub.ingest.otlp.attributes import ItemProblem

TRACE_ID_BYTES = 16
SPAN_ID_BYTES = 8


def derived_uuid(kind: bytes, *parts: bytes) -> str:
    """A version 8 UUID from a digest of ``kind`` and ``parts`` (length-prefixed)."""
    # One call over the joined input: the same digest as one update per piece, cheaper.
    data = kind + b"".join(len(part).to_bytes(4, "big") + part for part in parts)
    return uuid_text(hashlib.blake2b(data, digest_size=16).hexdigest())


# The variant hex digit: the digest's digit with its two high bits set to 10 (RFC 9562).
_VARIANT = {f"{d:x}": f"{(d & 0x3) | 0x8:x}" for d in range(16)}


def uuid_text(digits: str) -> str:
    """The canonical text of the version 8 UUID of 32 hex ``digits`` (a digest's).

    Formatted by hand: ``uuid.UUID`` costs more than the digest here (and an f-string
    of slices less than ``%`` or ``str.join``, counted with callgrind).
    """
    return (
        f"{digits[:8]}-{digits[8:12]}-8{digits[13:16]}-"  # the version digit is 8
        f"{_VARIANT[digits[16]]}{digits[17:20]}-{digits[20:]}"
    )


# Each byte with the version (byte 6) or variant (byte 8) bits of a version 8 UUID set.
_VERSION_BYTE = bytes((b & 0x0F) | 0x80 for b in range(256))
_VARIANT_BYTE = bytes((b & 0x3F) | 0x80 for b in range(256))


def uuid_texts(digests: Sequence[bytes]) -> list[str]:
    """``uuid_text`` of many 16-byte digests at once, a few times cheaper per id.

    Every step is one call over all of them: the version and variant bits set through
    strided slices, one hex encoding with a dash after every 2 bytes, then the dashes
    that a UUID does not have deleted, again through strided slices.
    """
    n = len(digests)
    if not n:
        return []
    raw = bytearray().join(digests)
    raw[6::16] = raw[6::16].translate(_VERSION_BYTE)
    raw[8::16] = raw[8::16].translate(_VARIANT_BYTE)
    # Per id: 8 groups of 4 digits, "-" after each but the last of all: 40 characters.
    text = bytearray(binascii.hexlify(raw, b"-", 2))
    del text[34::40]  # xxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxxxxxx-
    del text[29::39]  # xxxx-xxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx-
    del text[4::38]  # xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx-  (36 characters, then "-")
    text[36::37] = b"\n" * (n - 1)
    return text.decode("ascii").split("\n")


def span_event_id(trace_id: bytes, span_id: bytes) -> str:
    """The event id of the span ``span_id`` of trace ``trace_id``."""
    return derived_uuid(b"otlp-span", trace_id, span_id)


def required_id(value: bytes, size: int, field: str) -> str:
    """``value`` as lower-case hex; an :class:`ItemProblem` unless it is a valid id."""
    if len(value) != size:
        shown = "missing" if not value else f"{len(value)} bytes long"
        raise ItemProblem(
            field, f"must be {size} bytes ({2 * size} hex digits in OTLP/JSON); it is {shown}"
        )
    if not any(value):
        raise ItemProblem(field, "is all zeros, which OpenTelemetry defines as invalid")
    return value.hex()


def optional_id(value: bytes, size: int, field: str) -> str | None:
    """Like :func:`required_id`, but an absent (empty or all-zero) id is None."""
    if not any(value):
        return None
    return required_id(value, size, field)


__all__ = [
    "SPAN_ID_BYTES",
    "TRACE_ID_BYTES",
    "derived_uuid",
    "optional_id",
    "required_id",
    "span_event_id",
    "uuid_text",
    "uuid_texts",
]
