from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from analytics_hub.demo import DemoGenerator, describe_incidents
from analytics_hub.demo.incidents import NEW_MODEL, OLD_MODEL

from .wire_check import problems

START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday, on the hour
Event = dict[str, Any]


def data(event: Event) -> dict[str, Any]:
    return event["payload"]["data"]


def at(event: Event) -> datetime:
    return datetime.fromisoformat(event["timestamp"])


def calls(events: list[Event], **match: str) -> list[Event]:
    return [
        e
        for e in events
        if data(e).get("telemetry_type") == "llm_call"
        and all(e.get(k, data(e).get(k)) == v for k, v in match.items())
    ]


@pytest.fixture(scope="module")
def week() -> list[Event]:
    return list(DemoGenerator(7, start=START).backfill(START, START + timedelta(days=7)))


def test_a_week_is_about_fifty_thousand_events(week: list[Event]) -> None:
    assert 40_000 <= len(week) <= 60_000


def test_every_event_follows_the_wire_format(week: list[Event]) -> None:
    bad = [(e["event_id"], p) for e in week for p in problems(e)]
    assert bad == []
    assert len({e["event_id"] for e in week}) == len(week)


def test_every_kind_the_demo_promises_is_there(week: list[Event]) -> None:
    kinds = Counter(
        (e["payload"]["payload_type"], data(e)[f"{e['payload']['payload_type']}_type"])
        for e in week
    )
    for kind in [
        ("telemetry", "llm_call"),
        ("cost", "token_cost"),
        ("cost", "budget_alert"),
        ("security", "threat"),
        ("security", "auth"),
        ("governance", "policy_violation"),
        ("governance", "compliance_check"),
        ("governance", "audit_trail"),
        ("lifecycle", "asset"),
    ]:
        assert kinds[kind] > 0, kind
    actions = {data(e)["action"] for e in week if e["payload"]["payload_type"] == "lifecycle"}
    assert {"ASSET_REGISTERED", "VERSION_PUBLISHED"} <= actions
    errors = Counter(data(e).get("error_type") for e in calls(week, status="error"))
    assert set(errors) == {"rate_limit", "timeout", "server_error", "content_filter"}
    assert 0.005 < sum(errors.values()) / len(calls(week)) < 0.03
    assert {e["severity"] for e in week} >= {"info", "warning", "error"}


def test_events_decode_with_the_hubs_own_envelope_type(week: list[Event]) -> None:
    envelope = pytest.importorskip("analytics_hub.events.envelope")
    decoder = msgspec.json.Decoder(envelope.Envelope)
    for event in week[::50]:
        decoder.decode(msgspec.json.encode(event))


def test_the_same_seed_gives_the_same_events() -> None:
    window = (START, START + timedelta(hours=6))
    first = list(DemoGenerator(3).backfill(*window))
    again = list(DemoGenerator(3).backfill(*window))
    other = list(DemoGenerator(4).backfill(*window))
    assert first == again
    assert {e["event_id"] for e in first}.isdisjoint(e["event_id"] for e in other)


def test_overlapping_backfills_agree_on_the_overlap() -> None:
    gen = DemoGenerator(3, start=START)
    a = list(gen.backfill(START, START + timedelta(hours=3)))
    b = list(
        DemoGenerator(3, start=START).backfill(
            START + timedelta(minutes=70), START + timedelta(hours=4)
        )
    )
    lo, hi = START + timedelta(minutes=70), START + timedelta(hours=3)
    assert [e for e in a if lo <= at(e) < hi] == [e for e in b if at(e) < hi]


def test_backfill_is_in_time_order_and_inside_its_window() -> None:
    end = START + timedelta(hours=5, minutes=17)
    events = list(DemoGenerator(5).backfill(START + timedelta(minutes=3), end))
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)
    assert all(START + timedelta(minutes=3) <= at(e) < end for e in events)


def test_daily_seasonality_peaks_in_local_afternoon(week: list[Event]) -> None:
    # acme is at UTC-5: compare 13-17 h local with 1-5 h local over the weekdays.
    acme = [e for e in calls(week) if e["tags"]["region"] == "us-east-1"]
    local = [at(e) - timedelta(hours=5) for e in acme]
    weekdays = [t for t in local if t.weekday() < 5]
    peak = sum(1 for t in weekdays if 13 <= t.hour < 17)
    trough = sum(1 for t in weekdays if 1 <= t.hour < 5)
    assert peak > 4 * trough


def test_weekends_are_quieter(week: list[Event]) -> None:
    days = Counter(
        (at(e) - timedelta(hours=5)).weekday()
        for e in calls(week)
        if e["tags"]["region"] == "us-east-1"
    )
    assert days[6] < 0.6 * days[2]


def test_latency_regression_after_the_version_is_published(week: list[Event]) -> None:
    incident = next(i for i in describe_incidents(START) if i.key == "latency_regression")
    published = [
        e
        for e in week
        if e.get("asset_id") == "code-assistant" and data(e).get("action") == "VERSION_PUBLISHED"
    ]
    assert [at(e) for e in published] == [incident.start]
    asset = [
        e
        for e in calls(week, asset_id="code-assistant", status="ok")
        if e["tags"]["region"] == "us-east-1"
    ]
    before = [data(e)["latency_ms"] for e in asset if at(e) < incident.start]
    after = [data(e)["latency_ms"] for e in asset if at(e) >= incident.start]
    assert 2.0 < statistics.median(after) / statistics.median(before) < 3.0
    sonnet_before = {
        data(e)["model_id"]
        for e in asset
        if at(e) < incident.start and "sonnet" in data(e)["model_id"]
    }
    sonnet_after = {
        data(e)["model_id"]
        for e in asset
        if at(e) >= incident.start and "sonnet" in data(e)["model_id"]
    }
    assert (sonnet_before, sonnet_after) == ({OLD_MODEL}, {NEW_MODEL})


def test_cost_spike_from_one_abusive_user(week: list[Event]) -> None:
    incident = next(i for i in describe_incidents(START) if i.key == "cost_spike")
    assert incident.end is not None
    globex = [e for e in calls(week, asset_id="support-bot") if e["tags"]["region"] == "eu-west-1"]

    def cost(events: list[Event]) -> float:
        return sum(data(e).get("cost_usd", 0.0) for e in events)

    during = [e for e in globex if incident.start <= at(e) < incident.end]
    same_time_day_before = [
        e
        for e in globex
        if incident.start - timedelta(days=1) <= at(e) < incident.end - timedelta(days=1)
    ]
    assert cost(during) > 20 * cost(same_time_day_before)
    abusive = [e for e in during if data(e)["user_id"] == "globex-u7781"]
    assert cost(abusive) > 0.9 * cost(during)
    assert min(data(e)["input_tokens"] for e in abusive) > 80_000
    dos = [e for e in week if data(e).get("threat_type") == "denial_of_service"]
    assert dos
    assert all(incident.start <= at(e) < incident.end for e in dos)
    assert {data(e)["mitigation_status"] for e in dos} == {"detected", "blocked"}
    alerts = [
        data(e)["alert_type"]
        for e in week
        if data(e).get("budget_id") == "bud-globex-support-bot-daily"
    ]
    assert alerts == ["critical", "exceeded"]


def test_policy_violation_burst(week: list[Event]) -> None:
    incident = next(i for i in describe_incidents(START) if i.key == "policy_violation_burst")
    assert incident.end is not None
    length = incident.end - incident.start
    violations = [e for e in week if data(e).get("governance_type") == "policy_violation"]
    during = [e for e in violations if incident.start <= at(e) < incident.end]
    before = [e for e in violations if incident.start - length <= at(e) < incident.start]
    assert len(during) > 80
    assert len(during) > 20 * max(1, len(before))
    assert {e["asset_id"] for e in during} == {"search-rag"}
    checks = [
        e for e in week if data(e).get("framework") == "GDPR" and e.get("asset_id") == "search-rag"
    ]
    assert [data(e)["passed"] for e in checks] == [False]


def test_live_ticks_continue_the_backfill_without_gaps_or_overlaps() -> None:
    end = START + timedelta(days=2, hours=15)  # a Wednesday afternoon in New York
    gen = DemoGenerator(9, rate_per_s=2.0, start=START)
    history = list(gen.backfill(end - timedelta(minutes=5), end))
    ticks = [gen.live(end + timedelta(seconds=s)) for s in (1, 2.5, 30, 30, 95)]
    assert all(at(e) < end for e in history)
    stamps = [e["timestamp"] for tick in ticks for e in tick]
    assert stamps
    assert stamps == sorted(stamps)
    assert all(end <= at(e) < end + timedelta(seconds=95) for tick in ticks for e in tick)

    # The same span in one tick gives the same events: ticks only cut, never change.
    one = DemoGenerator(9, rate_per_s=2.0, start=START)
    list(one.backfill(end - timedelta(minutes=5), end))
    assert one.live(end + timedelta(seconds=95)) == [e for tick in ticks for e in tick]


def test_live_rate_follows_rate_per_s() -> None:
    now = START + timedelta(days=1, hours=19)  # 14:00 in New York, 20:00 in Berlin
    slow = DemoGenerator(1, rate_per_s=1.0, start=START)
    fast = DemoGenerator(1, rate_per_s=10.0, start=START)
    slow.live(now)
    fast.live(now)
    n_slow = len(slow.live(now + timedelta(minutes=3)))
    n_fast = len(fast.live(now + timedelta(minutes=3)))
    assert 6 < n_fast / max(1, n_slow) < 14


def test_per_tenant_streams_partition_the_traffic() -> None:
    window = (START, START + timedelta(hours=4))
    both = list(DemoGenerator(2, start=START).backfill(*window))
    gen = DemoGenerator(2, start=START)
    acme = list(gen.backfill(*window, tenant="acme"))
    globex = list(gen.backfill(*window, tenant="globex"))
    assert sorted(e["event_id"] for e in both) == sorted(e["event_id"] for e in acme + globex)
    assert {e["tags"].get("region") for e in calls(acme)} == {"us-east-1"}


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown tenant"):
        DemoGenerator(1, tenants=["initech"])
    with pytest.raises(ValueError, match="timezone-aware"):
        DemoGenerator(1).backfill(datetime(2025, 1, 1), datetime(2025, 1, 2))
    with pytest.raises(ValueError, match="after start"):
        DemoGenerator(1).backfill(START, START)
    with pytest.raises(ValueError, match="unknown tenant"):
        DemoGenerator(1, tenants=["acme"]).live(START, tenant="globex")


def test_incidents_are_described_relative_to_the_start() -> None:
    keys = {i.key: i for i in describe_incidents(START)}
    assert set(keys) == {"latency_regression", "cost_spike", "policy_violation_burst"}
    assert keys["latency_regression"].start == START + timedelta(days=4, hours=10)
    assert keys["cost_spike"].start == START + timedelta(days=5, hours=14)
    assert keys["policy_violation_burst"].end == START + timedelta(days=6, hours=3, minutes=45)
    gen = DemoGenerator(1, tenants=["globex"])
    assert gen.incidents() == []
    list(gen.backfill(START, START + timedelta(minutes=1)))
    assert [i.key for i in gen.incidents()] == ["cost_spike"]
