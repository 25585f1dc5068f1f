"""Parquet reader: nested struct columns or dotted column names, read by record batch."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from analytics_hub.bulk.nesting import nest, split_columns
from analytics_hub.bulk.sources import decode_error

Convert = Callable[[Any], Any]


def read_parquet(path: str | Path, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    """Batches of events, one per row; nulls are absent fields."""
    parquet = _open(path)
    schema = parquet.schema_arrow
    try:
        structs = frozenset(f.name for f in schema if pa.types.is_struct(f.type))
        paths = split_columns(schema.names, structs)
    except ValueError as exc:
        raise decode_error(path, None, f"bad column names: {exc}") from exc
    converters = [_converter(field.type) for field in schema]
    row = 0
    try:
        for record_batch in parquet.iter_batches(batch_size=batch_size):
            columns = [
                [convert(v) for v in column.to_pylist()]
                for column, convert in zip(record_batch.columns, converters, strict=True)
            ]
            yield [nest(paths, values) for values in zip(*columns, strict=True)]
            row += record_batch.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise decode_error(path, None, f"unreadable Parquet data after row {row}: {exc}") from exc


def parquet_rows(path: str | Path) -> int:
    """Row count from the file's metadata (no data is read)."""
    return int(_open(path).metadata.num_rows)


def _open(path: str | Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise decode_error(path, None, f"not a readable Parquet file: {exc}") from exc


def _converter(arrow_type: pa.DataType) -> Convert:
    """A function turning one Python value of ``arrow_type`` into JSON-ready data."""
    if pa.types.is_struct(arrow_type):
        names = [arrow_type.field(i).name for i in range(arrow_type.num_fields)]
        subs = [_converter(arrow_type.field(i).type) for i in range(arrow_type.num_fields)]

        def struct(value: Any) -> Any:
            if value is None:
                return None
            out = {n: c(value.get(n)) for n, c in zip(names, subs, strict=True)}
            return {k: v for k, v in out.items() if v is not None}

        return struct
    if pa.types.is_map(arrow_type):
        key, item = _converter(arrow_type.key_type), _converter(arrow_type.item_type)

        def mapping(value: Any) -> Any:
            # pyarrow renders a map as a list of (key, value) pairs
            return None if value is None else {str(key(k)): item(v) for k, v in value}

        return mapping
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        element = _converter(arrow_type.value_type)
        return lambda value: None if value is None else [element(v) for v in value]
    return _scalar


def _scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # Parquet timestamps without a zone are UTC by convention
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; a missing measurement is the honest reading
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    return value


__all__ = ["parquet_rows", "read_parquet"]
