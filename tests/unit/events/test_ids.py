"""UUIDv7 generation and the batch checks of hex ids."""

from __future__ import annotations

import time
import uuid

from analytics_hub.events import uuid7
from analytics_hub.events.ids import check_hex_ids, uuid7_batch


def test_uuid7_is_a_canonical_version_7_uuid() -> None:
    text = uuid7()
    value = uuid.UUID(text)
    assert str(value) == text
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_uuid7_carries_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    ms = uuid.UUID(uuid7()).int >> 80
    after = time.time_ns() // 1_000_000
    assert before <= ms <= after + 1


def test_uuid7_sort_in_creation_order_even_within_a_millisecond() -> None:
    ids = uuid7_batch(20_000) + [uuid7() for _ in range(1000)] + uuid7_batch(3)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 7 for i in ids[::997])


def test_uuid7_batch_of_nothing() -> None:
    assert uuid7_batch(0) == []


def test_check_hex_ids_keeps_none_and_lower_cases() -> None:
    values = [None, "0190A4B6-3C2D-7E8F-9A0B-1C2D3E4F5A6B", "0190a4b6-3c2d-7e8f-9a0b-1c2d3e4f5a6b"]
    canonical, bad = check_hex_ids(values, "uuid")
    assert bad == []
    assert canonical == [None, values[2], values[2]]


def test_check_hex_ids_names_the_bad_ones() -> None:
    values = [
        "0190a4b6-3c2d-7e8f-9a0b-1c2d3e4f5a6b",
        "0190a4b6-3c2d-7e8f-9a0b1-c2d3e4f5a6b",  # a dash out of place
        None,
        "0190a4b6-3c2d-7e8f-9a0b-1c2d3e4f5a6b\n",
        "ü190a4b6-3c2d-7e8f-9a0b-1c2d3e4f5a6b",
    ]
    assert check_hex_ids(values, "uuid")[1] == [1, 3, 4]


def test_trace_and_span_ids() -> None:
    assert check_hex_ids(["a" * 32, "B" * 16, None], "trace") == (["a" * 32, "b" * 16, None], [])
    assert check_hex_ids(["a" * 24, "g" * 32], "trace")[1] == [0, 1]
    assert check_hex_ids(["0" * 16, "0" * 32], "span")[1] == [1]


def test_all_none_is_fine() -> None:
    assert check_hex_ids([None, None], "span") == ([None, None], [])
