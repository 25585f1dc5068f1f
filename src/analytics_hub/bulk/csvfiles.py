"""CSV reader: one event per row, dotted headers become nesting.

``payload.data.model_id`` becomes ``{"payload": {"data": {"model_id": ...}}}``; numbers
and booleans are parsed (except in id, tag and version columns, see
:func:`~analytics_hub.bulk.nesting.keeps_text`); a cell holding a JSON array or object
becomes that value; an empty cell means the field is absent.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analytics_hub.bulk.nesting import keeps_text, nest, parse_cell, split_columns
from analytics_hub.bulk.sources import READ_ERRORS, decode_error, open_text, read_failure

# The default 128 KiB field limit is smaller than one long prompt; cells are still bounded
# (a file with an unterminated quote stops at this size with a clear error).
_FIELD_LIMIT = 16 << 20

_CSV_ERRORS: tuple[type[BaseException], ...] = (csv.Error, *READ_ERRORS)


def read_csv(path: str | Path, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    """Batches of events from a CSV file with a header row."""
    csv.field_size_limit(min(_FIELD_LIMIT, sys.maxsize))
    with open_text(path, newline="") as fh:
        # strict: an unterminated quote or stray quote character is an error, not data
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader, None)
        except _CSV_ERRORS as exc:
            raise _failure(path, reader.line_num or 1, exc) from exc
        if header is None:
            return
        try:
            paths = split_columns(header)
        except ValueError as exc:
            raise decode_error(path, 1, f"bad header: {exc}") from exc
        as_text = [keeps_text(p) for p in paths]
        width = len(paths)
        batch: list[dict[str, Any]] = []
        while True:
            try:
                row = next(reader, None)
            except _CSV_ERRORS as exc:
                raise _failure(path, reader.line_num, exc) from exc
            if row is None:
                break
            if not any(row):
                continue  # blank line
            if len(row) > width:
                raise decode_error(
                    path, reader.line_num, f"the row has {len(row)} fields, the header {width}"
                )
            values = [
                parse_cell(cell, as_text=text) if cell != "" else None
                for cell, text in zip(row, as_text, strict=False)
            ]
            batch.append(nest(paths[: len(values)], values))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch


def _failure(path: str | Path, line: int, exc: BaseException) -> Exception:
    if isinstance(exc, csv.Error):
        return decode_error(path, line, f"malformed CSV: {exc}")
    return read_failure(path, line, exc)


__all__ = ["read_csv"]
