"""One accepted request as bus bytes: its normalised events (Arrow IPC) and its dead letters.

The events travel as an Arrow IPC stream, so that the writer reads them back without
decoding anything (the buffers are used in place). Dead letters, few and small, travel as
JSON after it. Layout: ``MAGIC``, the IPC length (u32), the IPC stream, the letters.
"""

from __future__ import annotations

import struct

import msgspec
import pyarrow as pa

from analytics_hub.events import EVENT_SCHEMA
from analytics_hub.store.base import DeadLetter

MAGIC = b"HUB1"
_LEN = struct.Struct("<I")
_LETTERS = msgspec.json.Decoder(list[DeadLetter])
_ENCODER = msgspec.json.Encoder()


def encode_batch(table: pa.Table, letters: list[DeadLetter]) -> bytes:
    """The bus message for one request."""
    ipc = b""
    if table.num_rows:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        ipc = sink.getvalue().to_pybytes()
    tail = _ENCODER.encode(letters) if letters else b""
    return MAGIC + _LEN.pack(len(ipc)) + ipc + tail


def decode_batch(payload: bytes) -> tuple[pa.Table, list[DeadLetter]]:
    """The events and dead letters of a bus message made by :func:`encode_batch`."""
    if payload[:4] != MAGIC:
        raise ValueError("not a batch message (bad magic)")
    (n,) = _LEN.unpack_from(payload, 4)
    start = 4 + _LEN.size
    if n:
        table = pa.ipc.open_stream(pa.py_buffer(payload)[start : start + n]).read_all()
    else:
        table = EVENT_SCHEMA.empty_table()
    rest = payload[start + n :]
    letters = _LETTERS.decode(rest) if rest else []
    return table, letters


__all__ = ["decode_batch", "encode_batch"]
