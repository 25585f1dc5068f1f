"""Request bodies: media type, bounded decompression.

Limits are enforced while reading and while decompressing, so a decompression bomb is
stopped at the limit rather than after it has filled memory.
"""

from __future__ import annotations

import io
import zlib
from enum import StrEnum

import zstandard

from analytics_hub.errors import DecodeError, PayloadTooLargeError, UnsupportedMediaTypeError


class BodyFormat(StrEnum):
    """How a body's events are laid out."""

    JSON = "json"  # one object or an array of objects
    NDJSON = "ndjson"  # one object per line


_MEDIA_TYPES = {
    "application/json": BodyFormat.JSON,
    "application/x-ndjson": BodyFormat.NDJSON,
    "application/ndjson": BodyFormat.NDJSON,
    "application/jsonl": BodyFormat.NDJSON,
    "application/x-jsonlines": BodyFormat.NDJSON,
}


def body_format(content_type: str | None) -> BodyFormat:
    """The body format for a ``Content-Type`` header, or ``UnsupportedMediaTypeError``."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    fmt = _MEDIA_TYPES.get(media)
    if fmt is None:
        shown = media or "none"
        raise UnsupportedMediaTypeError(
            f"unsupported content type {shown!r}: send application/json (one event or an "
            "array) or application/x-ndjson (one event per line)"
        )
    return fmt


def decompress(data: bytes, encoding: str | None, *, max_bytes: int) -> bytes:
    """Undo ``Content-Encoding`` (identity, gzip, zstd), never producing over ``max_bytes``."""
    enc = (encoding or "identity").strip().lower()
    if enc in ("identity", ""):
        out = data
    elif enc in ("gzip", "x-gzip", "deflate"):
        out = _inflate(data, enc, max_bytes)
    elif enc == "zstd":
        out = _unzstd(data, max_bytes)
    else:
        raise UnsupportedMediaTypeError(
            f"unsupported content encoding {enc!r}: use gzip, zstd or none"
        )
    if len(out) > max_bytes:
        raise PayloadTooLargeError(
            f"body is larger than {max_bytes} bytes after decompression; send smaller batches"
        )
    return out


def _inflate(data: bytes, enc: str, max_bytes: int) -> bytes:
    # wbits 47 = auto-detect zlib or gzip headers; deflate bodies are zlib-wrapped in practice.
    inflater = zlib.decompressobj(47)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise DecodeError(f"body is not valid {enc} data: {exc}") from None
    if len(out) > max_bytes:
        raise PayloadTooLargeError(
            f"body is larger than {max_bytes} bytes after decompression; send smaller batches"
        )
    if not inflater.eof:
        raise DecodeError(f"{enc} body is truncated")
    return out


def _unzstd(data: bytes, max_bytes: int) -> bytes:
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
    try:
        out = reader.read(max_bytes + 1)
    except zstandard.ZstdError as exc:
        raise DecodeError(f"body is not valid zstd data: {exc}") from None
    if len(out) > max_bytes:
        raise PayloadTooLargeError(
            f"body is larger than {max_bytes} bytes after decompression; send smaller batches"
        )
    return bytes(out)


__all__ = ["BodyFormat", "body_format", "decompress"]
