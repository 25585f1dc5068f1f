"""Forecast API latency over HTTP against a real ``analytics-hub serve`` with demo data.

Loads ``--days`` of demo history for one tenant (``DemoGenerator`` backfill, sent with
``HubClient`` and read back once visible), then times ``POST /api/v1/forecast`` over
HTTP: the daily cost of model calls 30 days ahead (the target: at most 2 s) and the
hourly cost 48 hours ahead. References measured in the same run, on the same series:

- the query alone: the ``POST /api/v1/query`` the forecast reads its history with, over
  HTTP;
- ``forecast()`` alone: the ensemble and its back-test on that history, in process.

The ratio ``http / (query + forecast)`` is the API's own overhead (paging, shaping, the
worker thread) and holds on a noisy machine. The last line of stdout is one JSON object.

    python bench/forecast_api.py [--days 28] [--runs 15] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from analytics_hub.analytics.forecast.history import BUCKETS, floor_time
from analytics_hub.analytics.forecast.service import forecast
from analytics_hub.client import HubClient
from analytics_hub.demo import DemoGenerator
from analytics_hub.testing.hubprocess import HubProcess, create_key

TENANT = "acme"
TARGET_MS = 2000.0
COST = {
    "filters": [{"field": "payload_subtype", "op": "eq", "value": "llm_call"}],
    "aggregates": [{"fn": "sum", "field": "cost_usd", "as": "cost"}],
}


def load(url: str, key: str, days: int) -> dict[str, float]:
    """Send ``days`` of demo history up to now; return counts and the time it took."""
    now = dt.datetime.now(dt.UTC)
    start = floor_time(now - dt.timedelta(days=days), dt.timedelta(days=1))
    generator = DemoGenerator(seed=7, tenants=[TENANT])
    t0 = time.perf_counter()
    with HubClient(url, key, batch_size=2000) as client:
        report = client.send(generator.backfill(start, now, tenant=TENANT), wait_visible=True)
    return {
        "events": report.accepted,
        "rejected": report.rejected,
        "load_s": round(time.perf_counter() - t0, 1),
    }


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, int(np.ceil(0.95 * len(ordered))) - 1)]


def post(http: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = http.post(path, json=body)
    r.raise_for_status()
    result: dict[str, Any] = r.json()
    return result


def measure(http: httpx.Client, bucket: str, horizon: str, runs: int) -> dict[str, Any]:
    """HTTP latency of one forecast, and of its query and ``forecast()`` alone.

    The three are timed in turn within each run, so that a busy spell of the machine
    slows all three alike and their ratios hold.
    """
    policy = BUCKETS[bucket]
    body = {"query": {**COST, "group_by": [{"bucket": bucket}]}, "horizon": horizon}
    answer = post(http, "/api/v1/forecast", body)  # also the warm-up
    as_of = dt.datetime.fromisoformat(answer["as_of"])
    query = {
        **COST,
        "group_by": [{"bucket": bucket}],
        "time_range": {
            "from": (as_of - policy.default_history).isoformat(),
            "to": as_of.isoformat(),
        },
        "limit": 10_000,
    }
    rows = post(http, "/api/v1/query", query)["rows"]
    # The series the API forecast: from its first bucket with data, gaps as zeros.
    first = dt.datetime.fromisoformat(answer["history"]["from"])
    values = np.zeros(int(answer["history"]["buckets"]))
    for row in rows:
        at = dt.datetime.fromisoformat(row["bucket"])
        if at >= first:
            values[(at - first) // policy.step] = row["cost"] or 0.0
    steps = len(answer["points"])
    forecast(values, start=first, step=policy.step, horizon=steps)  # warm-up
    http_ms, query_ms, forecast_ms = [], [], []
    for _ in range(runs):
        for fn, into in (
            (lambda: post(http, "/api/v1/forecast", body), http_ms),
            (lambda: post(http, "/api/v1/query", query), query_ms),
            (lambda: forecast(values, start=first, step=policy.step, horizon=steps), forecast_ms),
        ):
            t = time.perf_counter()
            fn()
            into.append((time.perf_counter() - t) * 1000.0)
    http_median = statistics.median(http_ms)
    query_median = statistics.median(query_ms)
    forecast_median = statistics.median(forecast_ms)
    return {
        "history_points": int(values.size),
        "http_median_ms": round(http_median, 1),
        "http_p95_ms": round(p95(http_ms), 1),
        "query_only_median_ms": round(query_median, 1),
        "forecast_only_median_ms": round(forecast_median, 1),
        "http_over_query_plus_forecast": round(http_median / (query_median + forecast_median), 3),
        "http_over_forecast": round(http_median / forecast_median, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=28, help="days of demo history (at most 29)")
    ap.add_argument("--runs", type=int, default=15, help="timed requests per figure")
    ap.add_argument("--quick", action="store_true", help="16 days, 5 runs: a smoke test")
    args = ap.parse_args()
    days, runs = (16, 5) if args.quick else (args.days, args.runs)

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "hub"
        data_dir.mkdir()
        ingest_key = create_key(data_dir, TENANT, "ingest")
        read_key = create_key(data_dir, TENANT, "read")
        hub = HubProcess(data_dir=data_dir, env={"HUB_LOG_LEVEL": "warning"}).start()
        try:
            loaded = load(hub.url, ingest_key, days)
            headers = {"Authorization": f"Bearer {read_key}"}
            with httpx.Client(base_url=hub.url, headers=headers, timeout=120.0) as http:
                daily = measure(http, "1d", "30d", runs)
                hourly = measure(http, "1h", "48h", runs)
        finally:
            hub.stop()

    figures: dict[str, Any] = {
        "benchmark": "forecast_api",
        "history_days": days,
        "runs": runs,
        "events_loaded": loaded["events"],
        "load_s": loaded["load_s"],
    }
    figures.update({f"daily_30d_{k}": v for k, v in daily.items()})
    figures.update({f"hourly_48h_{k}": v for k, v in hourly.items()})
    figures["target_ms"] = TARGET_MS
    figures["daily_30d_meets_target"] = daily["http_p95_ms"] <= TARGET_MS
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
