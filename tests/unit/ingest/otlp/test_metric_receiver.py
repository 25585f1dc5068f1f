"""The metrics receiver: durable before it answers, retries not counted twice, bounded."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics_hub.errors import BackpressureError
from analytics_hub.ingest.otlp import OtlpEncoding, OtlpOptions
from analytics_hub.ingest.otlp.metric_receiver import OtlpMetricsReceiver
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.store.metric_points import PointSelection

from .metric_builders import NOW_NS, metric, number, request

TENANT = "acme"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    opened = DuckDBStore(tmp_path / "events.duckdb", threads=1)
    opened.migrate()
    yield opened
    opened.close()


def _body(*values: float) -> bytes:
    return bytes(
        request(
            metric("gen_ai.server.queue", "gauge", *(number(v) for v in values))
        ).SerializeToString()
    )


def _stored(store: DuckDBStore, tenant: str = TENANT) -> list[float | None]:
    selection = PointSelection(tenant, "gen_ai.server.queue", 0, NOW_NS // 1000 + 10**9)
    return [p.value for p in store.select_metric_points(selection).points]


def test_points_are_durable_when_the_export_answers(store: DuckDBStore) -> None:
    receiver = OtlpMetricsReceiver(store)
    outcome = asyncio.run(receiver.export_metrics(TENANT, _body(4.0), OtlpEncoding.PROTOBUF))
    assert (outcome.items, outcome.accepted, outcome.rejected, outcome.dropped) == (1, 1, 0, 0)
    assert _stored(store) == [4.0]
    assert _stored(store, "globex") == []


def test_a_retried_export_is_not_counted_twice(store: DuckDBStore) -> None:
    receiver = OtlpMetricsReceiver(store)
    body = _body(1.0, 2.0)
    for _ in range(3):
        outcome = asyncio.run(receiver.export_metrics(TENANT, body, OtlpEncoding.PROTOBUF))
        assert outcome.accepted == 2
    assert len(_stored(store)) == 1  # the two values share series and time: one point


def test_rejected_points_are_reported_without_dead_letters(store: DuckDBStore) -> None:
    receiver = OtlpMetricsReceiver(store)
    body = bytes(
        request(
            metric("gen_ai.server.queue", "gauge", number(1.0)),
            metric("gen_ai.server.load", "gauge", number(math.nan)),
        ).SerializeToString()
    )
    outcome = asyncio.run(receiver.export_metrics(TENANT, body, OtlpEncoding.PROTOBUF))
    assert (outcome.accepted, outcome.rejected) == (1, 1)
    assert outcome.error_message("data points") == (
        "1 of 2 data points rejected: #1 as_double: must be a finite number, got nan"
    )


def test_requests_beyond_the_bound_are_refused_before_any_work(store: DuckDBStore) -> None:
    receiver = OtlpMetricsReceiver(store, OtlpOptions(), max_pending=1, retry_after=3.0)

    async def two_at_once() -> list[object]:
        return await asyncio.gather(
            receiver.export_metrics(TENANT, _body(1.0), OtlpEncoding.PROTOBUF),
            receiver.export_metrics(TENANT, _body(2.0), OtlpEncoding.PROTOBUF),
            return_exceptions=True,
        )

    first, second = asyncio.run(two_at_once())
    assert not isinstance(first, BaseException)
    assert isinstance(second, BackpressureError)
    assert (second.status, second.retry_after) == (429, 3.0)
    assert receiver.pending == 0
    assert _stored(store) == [1.0]
