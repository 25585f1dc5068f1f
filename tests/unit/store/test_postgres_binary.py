"""Events in PostgreSQL's binary COPY format: UUID text as its 16 bytes, or a fallback."""

from __future__ import annotations

import struct
import uuid

import pyarrow as pa
import pytest

from analytics_hub.store.postgres_binary import binary_bytes, uuid_bytes

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def test_canonical_uuids_become_their_bytes_and_nulls_stay_null() -> None:
    ids = [str(uuid.uuid4()) for _ in range(5)]
    column = pa.array([ids[0], None, ids[2], ids[3], None], pa.string())
    out = uuid_bytes(column)
    assert out is not None
    assert out.to_pylist() == [
        uuid.UUID(ids[0]).bytes,
        None,
        uuid.UUID(ids[2]).bytes,
        uuid.UUID(ids[3]).bytes,
        None,
    ]


def test_a_slice_of_a_chunked_column_is_read_from_its_own_offset() -> None:
    ids = [str(uuid.uuid4()) for _ in range(6)]
    column = pa.chunked_array([pa.array(ids[:3]), pa.array(ids[3:])]).slice(2, 3)
    out = uuid_bytes(column)
    assert out is not None
    assert out.to_pylist() == [uuid.UUID(v).bytes for v in ids[2:5]]
    assert (
        uuid_bytes(pa.array(ids).slice(4)).to_pylist()
        == [  # type: ignore[union-attr]
            uuid.UUID(v).bytes for v in ids[4:]
        ]
    )


@pytest.mark.parametrize(
    "odd",
    [
        "0196F3A2-7C1E-7A00-8000-000000000001",  # upper case
        "0196f3a27c1e7a008000000000000001",  # no dashes
        "{0196f3a2-7c1e-7a00-8000-000000000001}",  # braces
        "0196f3a2-7c1e-7a00-8000-00000000000g",  # not hex
        "0196f3a2-7c1e-7a00-8000+000000000001",  # a dash out of place
        "0196f3a2-7c1e-7a00-8000-0000000000é",  # 36 characters, 37 bytes
    ],
)
def test_a_column_with_one_non_canonical_uuid_is_refused(odd: str) -> None:
    column = pa.array([str(uuid.uuid4()), odd], pa.string())
    assert uuid_bytes(column) is None
    table = pa.table({"event_id": column})
    assert binary_bytes(table, ["event_id"]) is None


def test_binary_rows_carry_each_field_with_its_length_and_nul_is_replaced() -> None:
    event_id = str(uuid.uuid4())
    table = pa.table(
        {
            "event_id": pa.array([event_id, event_id], pa.string()),
            "user_id": pa.array(["a\x00b", None], pa.string()),
            "tokens": pa.array([7, None], pa.int64()),
        }
    )
    data = binary_bytes(table, ["event_id"])
    assert data is not None
    assert data.startswith(SIGNATURE)
    body = data[len(SIGNATURE) + 8 :]  # flags and header extension length
    replaced = "a\ufffdb".encode()
    first = (
        struct.pack(">hi", 3, 16)
        + uuid.UUID(event_id).bytes
        + struct.pack(">i", len(replaced))
        + replaced
        + struct.pack(">iq", 8, 7)
    )
    second = struct.pack(">hi", 3, 16) + uuid.UUID(event_id).bytes + struct.pack(">ii", -1, -1)
    assert body == first + second + struct.pack(">h", -1)


def test_a_table_of_several_chunks_renders_as_one_of_one_chunk() -> None:
    ids = [str(uuid.uuid4()) for _ in range(5)]
    names = ["a", "b\x00", None, "d", "e"]
    whole = pa.table({"event_id": ids, "name": names})
    chunked = pa.concat_tables([whole.slice(0, 2), whole.slice(2)])
    assert chunked.column("event_id").num_chunks == 2
    assert binary_bytes(chunked, ["event_id"]) == binary_bytes(whole, ["event_id"])
    one_bad = pa.concat_tables([whole.slice(0, 2), pa.table({"event_id": ["x"], "name": ["f"]})])
    assert binary_bytes(one_bad, ["event_id"]) is None


def test_an_empty_table_is_a_header_and_a_trailer() -> None:
    empty = pa.table({"event_id": pa.array([], pa.string())})
    assert binary_bytes(empty, ["event_id"]) == SIGNATURE + bytes(8) + struct.pack(">h", -1)
