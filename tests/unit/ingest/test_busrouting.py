"""Cutting bus messages into (module, partition) pieces: nothing lost, nothing mixed."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from analytics_hub.bus.base import Part
from analytics_hub.ingest.batchcodec import decode_batch, encode_batch
from analytics_hub.ingest.busrouting import CUSTOM_MODULE, INVALID_MODULE, route_batch
from analytics_hub.store.base import DeadLetter
from analytics_hub.testing.rows import make_event_rows

START = datetime(2025, 1, 1, tzinfo=UTC)
BIG = 1 << 30


def _letter(i: int) -> DeadLetter:
    return DeadLetter(
        tenant_id="t1", id=f"00000000-0000-4000-8000-{i:012d}", received_at=START, index=i,
        errors=[{"field": "model_id", "message": "missing"}], raw="{}",
    )  # fmt: skip


def _rows(parts: list[Part]) -> pa.Table:
    return pa.concat_tables([decode_batch(p.payload)[0] for p in parts])


def _partition(asset: str | None, n: int) -> int:
    return zlib.crc32(asset.encode()) % n if asset else 0


def test_every_piece_holds_one_module_and_one_partition_and_nothing_is_lost() -> None:
    table = make_event_rows(1000, start=START, seed=1)
    parts = route_batch(encode_batch(table, []), 1000, BIG, partitions=4)
    assert len(parts) > 1
    for part in parts:
        rows = decode_batch(part.payload)[0]
        assert set(rows.column("source_module").to_pylist()) == {part.module}
        assets = rows.column("asset_id").to_pylist()
        assert {_partition(a, 4) for a in assets} == {part.partition}
        assert part.weight == rows.num_rows
    assert sorted(_rows(parts).column("event_id").to_pylist()) == sorted(
        table.column("event_id").to_pylist()
    )


def test_a_single_module_single_partition_batch_is_sent_as_it_came() -> None:
    table = make_event_rows(200, start=START, seed=2, assets=1, call_share=1.0)
    payload = encode_batch(table, [])
    (part,) = route_batch(payload, 200, BIG, partitions=8)
    assert part.payload is payload
    assert part.module == "llm-observatory"
    assert part.partition == _partition(table.column("asset_id")[0].as_py(), 8)


def test_dead_letters_ride_with_the_first_piece_and_weights_add_up() -> None:
    table = make_event_rows(300, start=START, seed=3)
    letters = [_letter(1), _letter(2)]
    parts = route_batch(encode_batch(table, letters), 302, BIG, partitions=8)
    carried = [decode_batch(p.payload)[1] for p in parts]
    assert [len(c) for c in carried] == [2] + [0] * (len(parts) - 1)
    assert sum(p.weight for p in parts) == 302


def test_a_batch_of_only_invalid_events_has_its_own_subject_token() -> None:
    payload = encode_batch(make_event_rows(0, start=START), [_letter(1)])
    assert route_batch(payload, 1, BIG, partitions=8) == [Part(INVALID_MODULE, 0, payload, 1)]


def test_custom_modules_share_one_token_and_missing_assets_go_to_partition_zero() -> None:
    table = make_event_rows(50, start=START, seed=4)
    table = table.set_column(
        table.schema.get_field_index("source_module"),
        "source_module",
        pa.array(["acme.billing"] * 25 + ["acme-search"] * 25, pa.string()),
    )
    table = table.set_column(
        table.schema.get_field_index("asset_id"),
        table.schema.field("asset_id"),
        pa.array([None] * 50, pa.string()),
    )
    parts = route_batch(encode_batch(table, []), 50, BIG, partitions=8)
    assert [(p.module, p.partition, p.weight) for p in parts] == [(CUSTOM_MODULE, 0, 50)]


@pytest.mark.parametrize("limit", [20_000, 60_000])
def test_no_piece_exceeds_the_size_limit(limit: int) -> None:
    table = make_event_rows(2000, start=START, seed=5, assets=1, call_share=1.0)
    parts = route_batch(encode_batch(table, [_letter(1)]), 2001, limit, partitions=8)
    assert len(parts) > 1
    assert all(len(p.payload) <= limit for p in parts)
    assert sum(p.weight for p in parts) == 2001
    rows = _rows(parts)
    assert pc.count_distinct(rows.column("event_id")).as_py() == 2000
