"""The live feed agrees with the stores: same filter semantics, same envelopes.

The same rows are written to each backend and kept as the Arrow table the writer would
have committed. For every filter, the events the live feed's in-memory evaluation picks
must be exactly those ``GET /api/v1/events`` lists (the SQL dialect's answer), and the
envelopes the feed renders must equal the listing's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from analytics_hub.query import Filter, QueryService, TimeRange
from analytics_hub.query.live.matcher import LiveFilter, Rows
from analytics_hub.query.live.render import Job, match_and_render
from analytics_hub.store.base import EventStore
from analytics_hub.testing.rows import make_event_rows

START = datetime(2025, 2, 1, 10, 0, tzinfo=UTC)
N = 400
RANGE = TimeRange(from_=START - timedelta(minutes=1), to=START + timedelta(hours=1))

_PAYLOADS = [
    '{"score": 0.91, "blocked": true, "threat_type": "prompt_injection"}',
    '{"score": 0.5, "blocked": false, "threat_type": "data_exfiltration"}',
    '{"score": "0.95", "findings": [{"status": "open"}, {"status": "closed"}]}',
    '{"score": null, "findings": []}',
    '{"nested": {"level": 3}, "threat_type": "prompt_injection_v2"}',
    '{"count": 7}',
    "{}",
]
_TAGS = [
    '{"team": "search", "k8s.io/app": "web"}',
    '{"team": "support"}',
    "{}",
    '{"team": "search-2", "tier": "gold"}',
]

FILTERS: list[list[dict[str, Any]]] = [
    [],
    [{"field": "model_id", "op": "eq", "value": "gpt-4o"}],
    [{"field": "model_id", "op": "ne", "value": "gpt-4o"}],
    [{"field": "model_id", "op": "eq", "value": None}],
    [{"field": "model_id", "op": "not_in", "value": ["gpt-4o", "claude-sonnet-4"]}],
    [{"field": "asset_id", "op": "starts_with", "value": "asset-00"}],
    [{"field": "status", "op": "ne", "value": "error"}],
    [{"field": "error_type", "op": "in", "value": ["timeout", "rate_limit"]}],
    [{"field": "severity", "op": "gte", "value": "warning"}],
    [{"field": "severity", "op": "not_in", "value": ["info"]}],
    [{"field": "input_tokens", "op": "gt", "value": 500}],
    [{"field": "latency_ms", "op": "lte", "value": 700.5}],
    [{"field": "cost_usd", "op": "ne", "value": None}],
    [{"field": "timestamp", "op": "lt", "value": "2025-02-01T10:00:02+00:00"}],
    [{"field": "received_at", "op": "gte", "value": "2025-02-01T10:00:02.5Z"}],
    [{"field": "tags.team", "op": "eq", "value": "search"}],
    [{"field": "tags.team", "op": "ne", "value": "search"}],
    [{"field": "tags.team", "op": "contains", "value": "search"}],
    [{"field": "tags.k8s.io/app", "op": "eq", "value": "web"}],
    [{"field": "tags.tier", "op": "eq", "value": None}],
    [{"field": "payload.score", "op": "gt", "value": 0.8}],
    [{"field": "payload.score", "op": "eq", "value": 0.5}],
    [{"field": "payload.score", "op": "eq", "value": None}],
    [{"field": "payload.blocked", "op": "eq", "value": True}],
    [{"field": "payload.blocked", "op": "ne", "value": False}],
    [{"field": "payload.threat_type", "op": "starts_with", "value": "prompt_injection"}],
    [{"field": "payload.threat_type", "op": "in", "value": ["data_exfiltration", "x"]}],
    [{"field": "payload.findings.0.status", "op": "eq", "value": "open"}],
    [{"field": "payload.nested.level", "op": "gte", "value": 3}],
    [{"field": "payload.count", "op": "in", "value": [7, 8]}],
    [
        {"field": "payload_subtype", "op": "eq", "value": "llm_call"},
        {"field": "tags.team", "op": "starts_with", "value": "search"},
        {"field": "latency_ms", "op": "gt", "value": 300},
    ],
]


def _rows() -> pa.Table:
    table = make_event_rows(
        N, start=START, tenants=["t1", "t2"], seed=11, call_share=0.7, error_rate=0.1
    )
    extras = {
        "payload": [_PAYLOADS[i % len(_PAYLOADS)] for i in range(N)],
        "tags": [_TAGS[i % len(_TAGS)] for i in range(N)],
    }
    for name, values in extras.items():
        index = table.schema.get_field_index(name)
        table = table.set_column(index, table.schema.field(index), pa.array(values, pa.string()))
    return table


@pytest.fixture
def written(empty_store: EventStore) -> tuple[QueryService, pa.Table]:
    table = _rows()
    assert empty_store.write_events(table).inserted == N
    return QueryService(empty_store), table


def _listed(service: QueryService, filters: list[Filter]) -> list[dict[str, Any]]:
    page = service.list_events("t1", time_range=RANGE, filters=filters, limit=N)
    assert page.next_cursor is None
    return page.events


@pytest.mark.parametrize("specs", FILTERS, ids=lambda specs: json.dumps(specs)[:60])
def test_the_feed_picks_what_the_store_lists(
    written: tuple[QueryService, pa.Table], specs: list[dict[str, Any]]
) -> None:
    service, table = written
    filters = [Filter.model_validate(s) for s in specs]
    mine = table.filter(pa.compute.equal(table["tenant_id"], "t1"))
    mask = LiveFilter(filters).mask(Rows(mine)).to_pylist()
    live = {e for e, hit in zip(mine["event_id"].to_pylist(), mask, strict=True) if hit}
    stored = {e["event_id"] for e in _listed(service, filters)}
    assert live == stored
    assert 0 < len(stored) < mine.num_rows or not specs  # every filter is a real test


def test_the_feed_renders_events_as_the_events_listing_does(
    written: tuple[QueryService, pa.Table],
) -> None:
    service, table = written
    [matched] = match_and_render(table, [Job(1, "t1", LiveFilter(), room=N)], per_message=N)
    [(text, count)] = matched.chunks
    live = {e["event_id"]: e for e in json.loads(text)["events"]}
    stored = {e["event_id"]: e for e in _listed(service, [])}
    assert count == len(stored) > 0
    assert live == stored
