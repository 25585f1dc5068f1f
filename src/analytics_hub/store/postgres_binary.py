"""An Arrow event batch as the bytes of one ``COPY ... FROM STDIN (FORMAT binary)``.

PostgreSQL loads its binary format with far less work than CSV: no text to parse into
timestamps, numbers and UUIDs. Measured on the 2-core reference machine
(``docs/decisions/0027-binary-copy.md``): the backend spends 8.9 ms of CPU per 1,000
events on a binary COPY into the partitioned, indexed ``events`` table against 13.2 ms
for CSV, and rendering costs the writer the same as CSV. pgpq (Rust, vectorised over
Arrow) renders the rows; this module only shapes the columns for it:

- UUID columns, canonical text in the batch, become their 16 bytes (the binary form of
  ``uuid`` is those bytes, which is also how pgpq writes a binary value). A batch with
  a UUID that is not canonical lower-case text gets None, and the caller falls back to
  CSV, where PostgreSQL's own parser accepts or refuses it as before.
- NUL characters, which PostgreSQL text cannot hold, become U+FFFD, as in the CSV path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np
import pgpq
import pyarrow as pa
import pyarrow.compute as pc

log = logging.getLogger(__name__)

_UUID_TEXT = 36
_DASHES = (8, 13, 18, 23)
_DIGITS = np.array([i for i in range(_UUID_TEXT) if i not in _DASHES])
# Hex digit value of each byte; 255 marks a byte that is not a lower-case hex digit.
_NIBBLE = np.full(256, 255, np.uint8)
_NIBBLE[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16, dtype=np.uint8)


def binary_copy_sql(table: str, columns: Sequence[str]) -> str:
    """The COPY statement that reads :func:`binary_bytes` of a table with ``columns``."""
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)"


def uuid_bytes(column: pa.Array | pa.ChunkedArray) -> pa.Array | None:
    """Canonical UUID text (``8-4-4-4-12`` lower-case hex) as 16-byte binary values,
    nulls kept; None when any value is not canonical."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(array)
    valid = array.is_valid()
    filled = pc.fill_null(array, "00000000-0000-0000-0000-000000000000").cast(pa.string())
    lengths = pc.binary_length(filled)  # bytes: the rows must be 36 bytes each
    if n and (pc.min(lengths).as_py() != _UUID_TEXT or pc.max(lengths).as_py() != _UUID_TEXT):
        return None
    offsets = np.frombuffer(filled.buffers()[1], np.int32, n + 1, filled.offset * 4)
    text = np.frombuffer(filled.buffers()[2], np.uint8, _UUID_TEXT * n, int(offsets[0]))
    text = text.reshape(n, _UUID_TEXT)
    if n and not (text[:, list(_DASHES)] == ord("-")).all():
        return None
    nibbles = _NIBBLE[text[:, _DIGITS]]
    if n and nibbles.max() == 255:
        return None
    raw = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    validity = None if array.null_count == 0 else valid.buffers()[1]
    return pa.Array.from_buffers(
        pa.binary(16), n, [validity, pa.py_buffer(raw.tobytes())], array.null_count
    )


def _without_nul(column: pa.Array) -> pa.Array:
    values = column.buffers()[2]
    if values is None or not values.size or np.frombuffer(values, np.uint8).min():
        return column  # no zero byte anywhere in the values
    hits = pc.sum(pc.count_substring(column, "\x00")).as_py() or 0
    if not hits:
        return column  # the NUL was outside this slice of the buffer
    log.warning("replaced NUL characters in %d event batch values", hits)
    return pc.replace_substring(column, "\x00", "\ufffd")


def binary_bytes(table: pa.Table, uuid_columns: Sequence[str] = ()) -> bytes | None:
    """The rows of ``table`` (its columns in order) in PostgreSQL's binary COPY format;
    None when one of ``uuid_columns`` holds a value that is not canonical UUID text."""
    shaped = shape_for_binary(table, uuid_columns)
    return None if shaped is None else b"".join(binary_pieces(shaped))


def shape_for_binary(table: pa.Table, uuid_columns: Sequence[str] = ()) -> pa.RecordBatch | None:
    """``table`` as one record batch ready for :func:`binary_pieces` (UUIDs as bytes, NUL
    replaced); None when one of ``uuid_columns`` holds a non-canonical UUID.

    The table is first made one chunk: shaping many small chunks one by one costs more
    than the copy does.
    """
    combined = table.combine_chunks()
    batches = combined.to_batches()
    if len(batches) != 1:  # no rows, or (beyond 2 GiB of strings) several batches
        arrays = [column.combine_chunks() for column in combined.columns]
        batches = [pa.RecordBatch.from_arrays(arrays, schema=combined.schema)]
    return _shaped(batches[0], uuid_columns)


def binary_pieces(shaped: pa.RecordBatch, rows: int = 1 << 62) -> Iterator[bytes]:
    """The binary COPY body of ``shaped`` in pieces of at most ``rows`` rows each (plus
    the header and the trailer), rendered as they are asked for."""
    encoder = pgpq.ArrowToPostgresBinaryEncoder(shaped.schema)
    yield encoder.write_header()
    for start in range(0, shaped.num_rows, rows):
        yield encoder.write_batch(shaped.slice(start, rows))
    yield encoder.finish()


def _shaped(batch: pa.RecordBatch, uuid_columns: Sequence[str]) -> pa.RecordBatch | None:
    arrays: list[pa.Array] = []
    for name, array in zip(batch.schema.names, batch.columns, strict=True):
        if name in uuid_columns:
            converted = uuid_bytes(array)
            if converted is None:
                return None
            array = converted
        elif pa.types.is_string(array.type):
            array = _without_nul(array)
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


__all__ = ["binary_bytes", "binary_copy_sql", "binary_pieces", "shape_for_binary", "uuid_bytes"]
