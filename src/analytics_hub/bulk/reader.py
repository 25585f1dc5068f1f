"""Entry points of the bulk readers: ``iter_batches`` and ``count_hint``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from analytics_hub.bulk.csvfiles import read_csv
from analytics_hub.bulk.jsonfiles import read_json, read_ndjson
from analytics_hub.bulk.parquetfiles import parquet_rows, read_parquet
from analytics_hub.bulk.sources import Format, detect_format, sniff_compression
from analytics_hub.errors import ValidationError

Reader = Callable[[str | Path, int], Iterator[list[dict[str, Any]]]]

_READERS: dict[Format, Reader] = {
    "ndjson": read_ndjson,
    "json": read_json,
    "csv": read_csv,
    "parquet": read_parquet,
}

#: Up to this size a line count is exact; above it, estimated from the first part.
_EXACT_COUNT_BYTES = 64 << 20
_SAMPLE_BYTES = 4 << 20


def iter_batches(
    path: str | Path, *, format: str | None = None, batch_size: int = 10_000
) -> Iterator[list[dict[str, Any]]]:
    """The events of a file, in lists of at most ``batch_size``, streaming.

    ``format`` is ``ndjson`` (alias ``jsonl``), ``json``, ``csv`` or ``parquet``; by default
    it comes from the file name. gzip and zstd compression of the text formats is detected
    from the content. Malformed input raises :class:`~analytics_hub.errors.DecodeError`
    naming the file and line; an unknown format raises
    :class:`~analytics_hub.errors.ValidationError`; a missing file ``FileNotFoundError``.
    """
    if batch_size < 1:
        raise ValidationError("batch_size must be at least 1")
    fmt = detect_format(path, format)
    if not Path(path).is_file():
        # Raised now rather than on the first batch, so the caller learns it up front.
        raise FileNotFoundError(f"no such file: {path}")
    return _READERS[fmt](path, batch_size)


def count_hint(path: str | Path, *, format: str | None = None) -> int | None:
    """About how many events the file holds, for a progress bar; None when unknown.

    Parquet: exact, from the metadata. Uncompressed NDJSON and CSV: the line count (exact
    up to 64 MiB, estimated from the first 4 MiB above that). JSON and compressed files:
    None, since knowing would mean reading them.
    """
    fmt = detect_format(path, format)
    if fmt == "parquet":
        return parquet_rows(path)
    if fmt == "json" or sniff_compression(path) is not None:
        return None
    lines = _line_count(Path(path))
    return max(0, lines - 1) if fmt == "csv" else lines


def _line_count(path: Path) -> int:
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb") as fh:
        if size > _EXACT_COUNT_BYTES:
            sample = fh.read(_SAMPLE_BYTES)
            per_line = len(sample) / max(1, sample.count(b"\n"))
            return round(size / per_line)
        count = 0
        last = b""
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk
    # a last line without its newline still counts
    return count + (0 if last.endswith(b"\n") else 1)


__all__ = ["count_hint", "iter_batches"]
