"""An Arrow table as the bytes of one ``COPY ... FROM STDIN (FORMAT csv)``.

Events go in by binary COPY (:mod:`analytics_hub.store.postgres_binary`); CSV carries
the rollup rows, the other small tables, and the event batches whose ids the binary path
does not take.

Measured on the 2-core reference machine (``docs/decisions/0013-postgres-writes.md``):
pyarrow's C++ CSV writer renders ~450 k events/s, and COPY of pre-rendered CSV loads
about twice as fast as psycopg's row-by-row ``write_row`` (binary or text), which
spends its time converting Python objects. The CSV dialect matches PostgreSQL's: an
unquoted empty field is NULL, a quoted one the empty string; timestamps are written
without a zone (naive UTC, as stored); doubles in a form that parses back exactly.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

log = logging.getLogger(__name__)

_OPTIONS = pacsv.WriteOptions(include_header=False)
_NUL = b"\x00"
_REPLACEMENT = "\ufffd".encode()


def copy_sql(table: str, columns: Sequence[str]) -> str:
    """The COPY statement that reads :func:`csv_bytes` of a table with ``columns``."""
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"


def first_of_each_key(table: pa.Table) -> pa.Table:
    """``table`` without the rows whose ``(tenant_id, event_id)`` came earlier in it.

    The common batch repeats no event id at all, which one hash count shows; only a
    batch that does is sorted to find the repeats. Row order is kept.
    """
    n = table.num_rows
    if pc.count_distinct(table.column("event_id")).as_py() == n:
        return table
    keys = pa.table(
        {
            "tenant_id": table.column("tenant_id"),
            "event_id": table.column("event_id"),
            "i": pa.array(range(n), pa.int64()),
        }
    )
    ordered = keys.take(
        pc.sort_indices(
            keys,
            sort_keys=[("tenant_id", "ascending"), ("event_id", "ascending"), ("i", "ascending")],
        )
    )
    tenants, ids = ordered.column("tenant_id"), ordered.column("event_id")
    # Sorted by key then position: a row repeats its key iff it equals the row before.
    repeat = pc.and_(
        pc.equal(tenants.slice(1), tenants.slice(0, n - 1)),
        pc.equal(ids.slice(1), ids.slice(0, n - 1)),
    )
    first = pc.invert(pa.concat_arrays([pa.array([False]), pa.concat_arrays(repeat.chunks)]))
    keep = pc.filter(ordered.column("i"), first)
    return table.take(pc.take(keep, pc.sort_indices(keep)))  # back in batch order


def with_array_literals(table: pa.Table) -> pa.Table:
    """``table`` with every list column as PostgreSQL array text (``{1,2,3}``), which
    COPY's CSV reads into an array column; the CSV writer takes no list columns."""
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type):
            items = pc.binary_join(pc.cast(table.column(i), pa.list_(pa.string())), ",")
            table = table.set_column(
                i, field.name, pc.binary_join_element_wise("{", items, "}", "")
            )
    return table


def csv_bytes(table: pa.Table) -> bytes:
    """The CSV rows of ``table`` (its columns in order, no header).

    PostgreSQL text cannot hold the NUL character, which Arrow strings may; it is
    replaced by U+FFFD so that one such value cannot fail its whole batch forever.
    NUL can only occur inside a string value, so replacing it in the rendered bytes
    is the same as replacing it in the strings.
    """
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, _OPTIONS)
    data = sink.getvalue()
    if _NUL in data:
        log.warning("replaced NUL characters in %d event batch values", data.count(_NUL))
        data = data.replace(_NUL, _REPLACEMENT)
    return data


__all__ = ["copy_sql", "csv_bytes", "first_of_each_key", "with_array_literals"]
