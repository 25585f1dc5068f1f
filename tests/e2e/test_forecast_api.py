"""The forecast API end to end, through ``analytics-hub serve``: known synthetic series
are posted with explicit timestamps, and the forecast, runway, what-if and crossing
answers are checked against what they must be."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.e2e.harness import Hub

from analytics_hub.testing.envelopes import llm_call

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def pattern(hour: int) -> int:
    """Calls in an hour of the day: a daily cycle from 2 (00 UTC) to 18 (12 UTC)."""
    return 10 + round(8 * math.sin(2 * math.pi * (hour - 6) / 24))


def current_hour() -> datetime:
    """The start of this hour, once at least 30 s of it have passed.

    Events of the current hour land in its first 20 seconds, so that they are never in
    the future, even when the hour has only just begun.
    """
    now = datetime.now(UTC)
    if now.minute == 0 and now.second < 30:
        time.sleep(30 - now.second)
        now = datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0)


def post(hub: Hub, tenant: str, events: list[dict[str, Any]]) -> None:
    with hub.client(tenant, "ingest") as c:
        for i in range(0, len(events), 500):
            r = c.post("/api/v1/events", json=events[i : i + 500])
            assert r.status_code == 202, r.text
            assert r.json()["rejected"] == 0, r.text


def hourly_calls(
    asset: str,
    first: datetime,
    calls: Callable[[datetime], int],
    **fields: Any,
) -> list[dict[str, Any]]:
    """``calls(hour)`` model calls in every hour from ``first`` to the current one."""
    events, hour, last = [], first, current_hour()
    while hour <= last:
        events += [
            llm_call(timestamp=hour + timedelta(seconds=i), asset_id=asset, **fields)
            for i in range(calls(hour))
        ]
        hour += HOUR
    return events


def forecast(hub: Hub, tenant: str, path: str = "", **body: Any) -> Any:
    with hub.client(tenant, "read") as c:
        return c.post(f"/api/v1/forecast{path}", json=body)


def count_query(asset: str, bucket: str = "1h") -> dict[str, Any]:
    return {
        "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
        "group_by": [{"bucket": bucket}],
        "aggregates": [{"fn": "count", "as": "requests"}],
    }


@pytest.fixture(scope="module")
def seasonal_asset(hub: Hub) -> str:
    """An asset of tenant acme with three weeks of the daily pattern."""
    asset = f"fc-{uuid.uuid4().hex[:8]}"
    first = current_hour() - 21 * DAY
    post(hub, "acme", hourly_calls(asset, first, lambda h: pattern(h.hour)))
    return asset


def test_a_forecast_follows_the_daily_pattern_with_intervals_and_its_error(
    hub: Hub, seasonal_asset: str
) -> None:
    r = forecast(hub, "acme", query=count_query(seasonal_asset), horizon="48h", levels=[0.8, 0.95])
    assert r.status_code == 200, r.text
    body = r.json()
    as_of = datetime.fromisoformat(body["as_of"])
    # The start of the hour the request came in (which may have ended since).
    assert (as_of.minute, as_of.second) == (0, 0)
    assert timedelta(0) <= datetime.now(UTC) - as_of < 2 * HOUR
    assert (body["metric"], body["bucket"], body["levels"]) == ("requests", "1h", [0.8, 0.95])
    assert body["model"]["model"] == "ensemble"
    assert body["model"]["requested"] == "auto"
    history = body["history"]
    assert history["to"] == body["as_of"]
    assert 21 * 24 - 1 <= history["buckets"] <= 21 * 24 + 1
    assert (history["filled"], history["fill"]) == (0, "zero")
    points = body["points"]
    assert len(points) == 48
    for i, p in enumerate(points):
        at = datetime.fromisoformat(p["time"])
        assert at == as_of + i * HOUR
        assert p["value"] == pytest.approx(pattern(at.hour), abs=1.5), p
        inner, outer = p["intervals"]
        assert (inner["level"], outer["level"]) == (0.8, 0.95)
        assert outer["lower"] <= inner["lower"] <= p["value"] <= inner["upper"] <= outer["upper"]
    backtest = body["backtest"]
    assert backtest["horizon"] == 48
    assert backtest["level"] == 0.8
    assert backtest["mae"] < 1.5
    assert 0.0 <= backtest["coverage"] <= 1.0


def test_a_tenant_forecasts_only_its_own_events(hub: Hub, seasonal_asset: str) -> None:
    # globex has no events of acme's asset: nothing to forecast, whatever acme has.
    r = forecast(hub, "globex", query=count_query(seasonal_asset), horizon="24h")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "insufficient_history"
    # Given three times the calls under the same asset name, globex sees only its own.
    first = current_hour() - 14 * DAY
    post(hub, "globex", hourly_calls(seasonal_asset, first, lambda h: 3 * pattern(h.hour)))
    mine = forecast(hub, "globex", query=count_query(seasonal_asset), horizon="24h").json()
    theirs = forecast(hub, "acme", query=count_query(seasonal_asset), horizon="24h").json()
    for g, a in zip(mine["points"], theirs["points"], strict=True):
        hour = datetime.fromisoformat(g["time"]).hour
        assert g["value"] == pytest.approx(3 * pattern(hour), abs=3.0)
        assert a["value"] == pytest.approx(pattern(hour), abs=1.5)
    assert mine["history"]["buckets"] <= 14 * 24 + 1


@pytest.mark.parametrize(
    ("path", "change", "field"),
    [
        ("", {"horizon": "45d"}, "horizon"),
        ("", {"horizon": "90x"}, "horizon"),
        ("", {"levels": [1.5]}, "levels.0"),
        ("", {"history": "1h"}, "history"),
        # A model whose optional library is missing is a 400 too; make test installs every
        # extra, so that case is tested with the library hidden (tests/unit/analytics/
        # forecast/test_service.py), not here.
        ("", {"model": "magic"}, "unknown forecaster 'magic'"),
        ("", {"query": {"aggregates": [], "group_by": [{"bucket": "1h"}]}}, "query.aggregates"),
        (
            "",
            {
                "query": {
                    "aggregates": [{"fn": "count"}],
                    "group_by": ["model_id", {"bucket": "1d"}],
                }
            },
            "query.group_by",
        ),
        (
            "",
            {
                "query": {
                    "aggregates": [{"fn": "count"}],
                    "group_by": [{"bucket": "1h"}],
                    "time_range": {"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"},
                }
            },
            "remove 'time_range'",
        ),
        (
            "",
            {
                "query": {
                    "aggregates": [{"fn": "count"}],
                    "group_by": [{"bucket": "1h"}],
                    "filters": [{"field": "colour", "value": "red"}],
                }
            },
            "unknown field 'colour'",
        ),
        ("/crossing", {"within": "3d", "threshold": 1, "direction": "sideways"}, "direction"),
        ("/runway", {"budget": -5}, "budget"),
        ("/runway", {"budget": 5, "period": {"from": "2026-01-02T00:00:00Z"}}, "period.to"),
        ("/what-if", {"traffic_scale": -1}, "traffic_scale"),
        (
            "/what-if",
            {"shifts": [{"from": {"model": "a"}, "to": {"model": "b"}, "share": 2}]},
            "shifts.0.share",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    hub: Hub, path: str, change: dict[str, Any], field: str
) -> None:
    base: dict[str, Any] = {"query": count_query("any"), "horizon": "24h"}
    if path == "/runway":
        period = {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}
        base = {"budget": 10, "period": period}
    elif path == "/what-if":
        base = {}
    elif path == "/crossing":
        base = {"query": count_query("any")}
    r = forecast(hub, "acme", path, **{**base, **change})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["message"], error


def test_too_short_a_history_says_how_much_is_needed(hub: Hub) -> None:
    asset = f"fc-short-{uuid.uuid4().hex[:8]}"
    post(hub, "acme", hourly_calls(asset, current_hour() - 10 * HOUR, lambda h: 5))
    r = forecast(hub, "acme", query=count_query(asset), horizon="24h")
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "insufficient_history"
    assert "at least 48 1h buckets (2 days)" in error["message"]
    assert error["details"]["needed_buckets"] == 48
    # Daily buckets need two weeks.
    r = forecast(hub, "acme", query=count_query(asset, "1d"), horizon="7d")
    assert "at least 14 1d buckets (2 weeks)" in r.json()["error"]["message"]


def test_the_runway_of_a_constant_spend_rate_is_the_hand_computed_date(hub: Hub) -> None:
    asset = f"fc-runway-{uuid.uuid4().hex[:8]}"
    start = current_hour() - 10 * DAY
    post(hub, "acme", hourly_calls(asset, start, lambda h: 1, cost_usd=2.0))
    period_from = current_hour() - 48 * HOUR
    r = forecast(
        hub,
        "acme",
        "/runway",
        filters=[{"field": "asset_id", "op": "eq", "value": asset}],
        budget=156.0,
        period={"from": period_from.isoformat(), "to": (period_from + 8 * DAY).isoformat()},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    as_of = datetime.fromisoformat(body["as_of"])
    hours_spent = (as_of - period_from) / HOUR  # 48, or 49 if the hour turned meanwhile
    assert body["bucket"] == "1h"  # the period ends within 7 days
    assert body["spent"] == pytest.approx(2.0 * hours_spent)
    assert body["remaining"] == pytest.approx(156.0 - 2.0 * hours_spent)
    assert body["status"] == "runs_out"
    # 2 USD an hour: the rest lasts (156 - spent) / 2 hours, and a constant has no spread.
    expected = as_of + (156.0 - 2.0 * hours_spent) / 2.0 * HOUR
    for key in ("expected", "earliest", "latest"):
        assert datetime.fromisoformat(body["exhausted_at"][key]) == expected
    assert body["projected_spend"]["expected"] == pytest.approx(2.0 * 8 * 24)
    assert body["points"][-1]["cumulative"] == pytest.approx(2.0 * 8 * 24)
    # A budget the period cannot use up is "not within the period".
    r = forecast(
        hub,
        "acme",
        "/runway",
        filters=[{"field": "asset_id", "op": "eq", "value": asset}],
        budget=10_000.0,
        period={"from": period_from.isoformat(), "to": (period_from + 8 * DAY).isoformat()},
    )
    assert r.json()["status"] == "not_within_period"
    assert r.json()["exhausted_at"]["expected"] is None


def test_what_if_scaling_doubles_the_cost_and_a_cheaper_model_lowers_it(hub: Hub) -> None:
    asset = f"fc-whatif-{uuid.uuid4().hex[:8]}"
    first = current_hour().replace(hour=0) - 20 * DAY
    post(
        hub,
        "acme",
        hourly_calls(asset, first, lambda h: 1, input_tokens=1000, output_tokens=200),
    )
    base: dict[str, Any] = {
        "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
        "horizon": "30d",
    }
    r = forecast(hub, "acme", "/what-if", **base, traffic_scale=2)
    assert r.status_code == 200, r.text
    doubled = r.json()
    # 24 calls a day of 1000 input and 200 output tokens at 2.50 / 10.00 USD per million.
    per_day = 24 * (1000 * 2.5 + 200 * 10.0) / 1e6
    assert doubled["baseline"]["expected"] == pytest.approx(30 * per_day, rel=0.05)
    assert doubled["scenario"]["expected"] == pytest.approx(2 * doubled["baseline"]["expected"])
    assert doubled["change"] == pytest.approx(doubled["baseline"]["expected"])
    assert len(doubled["points"]) == 30
    (model,) = doubled["models"]
    assert (model["model"], model["price"]["source"]) == ("gpt-4o", "table")

    shift = {"from": {"model": "gpt-4o"}, "to": {"model": "gpt-4o-mini"}, "share": 1.0}
    cheaper = forecast(hub, "acme", "/what-if", **base, shifts=[shift]).json()
    assert cheaper["scenario"]["expected"] < cheaper["baseline"]["expected"]
    ratio = (1000 * 0.15 + 200 * 0.6) / (1000 * 2.5 + 200 * 10.0)
    assert cheaper["scenario"]["expected"] == pytest.approx(ratio * cheaper["baseline"]["expected"])
    price = {"model": "gpt-4o", "input": 1.25, "output": 5.0}
    halved = forecast(hub, "acme", "/what-if", **base, prices=[price]).json()
    assert halved["scenario"]["expected"] == pytest.approx(halved["baseline"]["expected"] / 2)


def test_crossing_gives_the_chance_and_the_first_time(hub: Hub, seasonal_asset: str) -> None:
    r = forecast(
        hub, "acme", "/crossing", query=count_query(seasonal_asset), threshold=17, within="24h"
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["probability"] > 0.9
    expected = datetime.fromisoformat(body["expected"])
    assert pattern(expected.hour) >= 16  # around noon UTC, the pattern's peak
    assert (
        datetime.fromisoformat(body["window_end"])
        == datetime.fromisoformat(body["as_of"]) + 24 * HOUR
    )
    never = forecast(
        hub, "acme", "/crossing", query=count_query(seasonal_asset), threshold=100, within=24
    ).json()
    assert never["probability"] < 0.01
    assert never["expected"] is None
