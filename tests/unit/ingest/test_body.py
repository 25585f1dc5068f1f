from __future__ import annotations

import gzip
import zlib

import pytest
import zstandard

from analytics_hub.errors import DecodeError, PayloadTooLargeError, UnsupportedMediaTypeError
from analytics_hub.ingest.body import BodyFormat, body_format, decompress


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/json", BodyFormat.JSON),
        ("application/json; charset=utf-8", BodyFormat.JSON),
        ("Application/JSON", BodyFormat.JSON),
        ("application/x-ndjson", BodyFormat.NDJSON),
        ("application/jsonl", BodyFormat.NDJSON),
    ],
)
def test_known_media_types_are_recognised(header: str, expected: BodyFormat) -> None:
    assert body_format(header) is expected


@pytest.mark.parametrize("header", [None, "", "text/plain", "application/x-www-form-urlencoded"])
def test_other_media_types_are_refused_with_the_accepted_ones_named(header: str | None) -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="application/x-ndjson"):
        body_format(header)


def test_identity_passes_through() -> None:
    assert decompress(b"[]", None, max_bytes=10) == b"[]"
    assert decompress(b"[]", "identity", max_bytes=10) == b"[]"


@pytest.mark.parametrize("encoding", ["gzip", "zstd"])
def test_compressed_bodies_round_trip(encoding: str) -> None:
    raw = b'[{"a": 1}]' * 100
    data = gzip.compress(raw) if encoding == "gzip" else zstandard.compress(raw)
    assert decompress(data, encoding, max_bytes=len(raw)) == raw


def test_deflate_zlib_wrapped_is_accepted() -> None:
    assert decompress(zlib.compress(b"[1]"), "deflate", max_bytes=10) == b"[1]"


@pytest.mark.parametrize("encoding", ["gzip", "zstd"])
def test_a_decompression_bomb_stops_at_the_limit(encoding: str) -> None:
    # 1 GiB of zeros compresses to about 1 MB; we must refuse after producing ~limit bytes.
    raw_size = 256 * 1024 * 1024
    if encoding == "gzip":
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = b"\0" * (1024 * 1024)
        bomb = b"".join(comp.compress(chunk) for _ in range(raw_size // len(chunk))) + comp.flush()
    else:
        bomb = zstandard.ZstdCompressor().compress(b"\0" * raw_size)
    assert len(bomb) < raw_size // 100
    with pytest.raises(PayloadTooLargeError, match="after decompression"):
        decompress(bomb, encoding, max_bytes=1024 * 1024)


def test_plain_body_over_the_limit_is_refused() -> None:
    with pytest.raises(PayloadTooLargeError):
        decompress(b"x" * 11, None, max_bytes=10)


@pytest.mark.parametrize("encoding", ["gzip", "zstd"])
def test_garbage_with_a_compression_header_is_a_decode_error(encoding: str) -> None:
    with pytest.raises(DecodeError, match=encoding):
        decompress(b"definitely not compressed", encoding, max_bytes=1000)


def test_truncated_gzip_is_a_decode_error() -> None:
    data = gzip.compress(b'[{"a": 1}]' * 100)
    with pytest.raises(DecodeError, match="truncated"):
        decompress(data[: len(data) // 2], "gzip", max_bytes=10_000)


def test_unknown_encoding_is_unsupported() -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="br"):
        decompress(b"x", "br", max_bytes=10)
