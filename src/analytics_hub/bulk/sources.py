"""Which reader a file needs, and its bytes as decompressed text.

The format comes from the name (``.ndjson``/``.jsonl``, ``.json``, ``.csv``,
``.parquet``, each text format optionally ``.gz`` or ``.zst``); the compression from the
file's first bytes, so a mislabelled ``events.json`` that is really gzip still reads.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Literal

import zstandard

from analytics_hub.errors import DecodeError, ValidationError

Format = Literal["ndjson", "json", "csv", "parquet"]
Compression = Literal["gzip", "zstd"]

FORMATS: tuple[Format, ...] = ("ndjson", "json", "csv", "parquet")

_SUFFIXES: dict[str, Format] = {
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_ALIASES: dict[str, Format] = {"jsonl": "ndjson", "jsonlines": "ndjson", "pq": "parquet"}
_COMPRESSED_SUFFIXES = (".gz", ".gzip", ".zst", ".zstd")

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def detect_format(path: str | Path, format: str | None = None) -> Format:
    """The file's format: ``format`` when given (aliases accepted), else from the name."""
    if format is not None:
        name = format.strip().lower().lstrip(".")
        resolved = _ALIASES.get(name, name)
        if resolved not in FORMATS:
            raise ValidationError(
                f"unknown format {format!r}: use one of {', '.join(FORMATS)}",
                details={"format": format},
            )
        return resolved
    suffixes = [s.lower() for s in Path(path).suffixes]
    while suffixes and suffixes[-1] in _COMPRESSED_SUFFIXES:
        suffixes.pop()
    found = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise ValidationError(
            f"cannot tell the format of {Path(path).name!r} from its name: name it "
            ".ndjson, .jsonl, .json, .csv or .parquet (optionally .gz or .zst), or give "
            "the format explicitly",
            details={"path": str(path)},
        )
    return found


def sniff_compression(path: str | Path) -> Compression | None:
    """``gzip`` or ``zstd`` from the file's magic bytes, else None."""
    with Path(path).open("rb") as fh:
        head = fh.read(4)
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return None


@contextmanager
def open_text(path: str | Path, *, newline: str | None = None) -> Iterator[IO[str]]:
    """The file as UTF-8 text (a BOM is skipped), decompressed on the fly.

    Decompression and decoding failures surface as :class:`DecodeError` from the
    readers, which know the line they were on.
    """
    compression = sniff_compression(path)
    with ExitStack() as stack:
        raw = stack.enter_context(Path(path).open("rb"))
        binary: IO[bytes] | gzip.GzipFile
        if compression == "gzip":
            binary = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
        elif compression == "zstd":
            reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
            binary = stack.enter_context(reader)
        else:
            binary = raw
        yield stack.enter_context(io.TextIOWrapper(binary, encoding="utf-8-sig", newline=newline))


#: What decompressing or decoding a damaged file can raise, by library.
READ_ERRORS: tuple[type[BaseException], ...] = (
    UnicodeDecodeError,
    gzip.BadGzipFile,
    EOFError,
    zstandard.ZstdError,
    OSError,
)


def read_failure(path: str | Path, line: int | None, exc: BaseException) -> DecodeError:
    """A :class:`DecodeError` naming the file and line for a low-level read failure."""
    if isinstance(exc, UnicodeDecodeError):
        reason = "the file is not valid UTF-8"
    elif isinstance(exc, gzip.BadGzipFile | EOFError):
        reason = f"the compressed data is damaged or truncated ({exc})"
    else:
        reason = str(exc) or type(exc).__name__
    return decode_error(path, line, reason)


def decode_error(path: str | Path, line: int | None, reason: str) -> DecodeError:
    """``DecodeError("<file>:<line>: <reason>")`` with the path and line in ``details``."""
    where = f"{Path(path).name}:{line}" if line is not None else Path(path).name
    return DecodeError(f"{where}: {reason}", details={"path": str(path), "line": line})


__all__ = [
    "FORMATS",
    "READ_ERRORS",
    "Compression",
    "Format",
    "decode_error",
    "detect_format",
    "open_text",
    "read_failure",
    "sniff_compression",
]
