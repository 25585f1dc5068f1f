"""Dashboard query latency over HTTP at 10 million stored events (embedded mode).

Loads ``--events`` events (default 10 million, 30 days, three tenants) through the store's
bulk write path (the same ``write_events`` that ingest and ``analytics-hub ingest`` use,
fed with generated rows so that loading takes minutes, not an hour), starts
``analytics-hub serve`` on the data, and times the dashboard questions over HTTP. The
reference, measured in the same run: the same questions answered from raw events only
(rollups off), in process. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa

from analytics_hub.query import Query, QueryService
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.testing.hubprocess import HubProcess, create_key
from analytics_hub.testing.rows import make_event_rows

TENANTS = ["acme", "globex", "initech"]
CHUNK = 200_000


def _chunk(args: tuple[int, datetime, timedelta]) -> pa.Table:
    i, start, step = args
    return make_event_rows(
        CHUNK, start=start + i * CHUNK * step, step=step, seed=i, tenants=TENANTS, assets=20
    )


def load(path: Path, n: int, now: datetime, days: float) -> dict[str, float]:
    step = timedelta(days=days) / n
    start = now - timedelta(days=days)
    store = DuckDBStore(path, memory_limit="2GB")
    store.migrate()
    t0 = time.perf_counter()
    write_s = 0.0
    with mp.Pool(2) as pool:
        for table in pool.imap(_chunk, [(i, start, step) for i in range(n // CHUNK)]):
            w = time.perf_counter()
            store.write_events(table)
            write_s += time.perf_counter() - w
    c = time.perf_counter()
    store.compact_rollups(now.replace(tzinfo=None))
    compact_s = time.perf_counter() - c
    store.close()
    return {
        "load_s": round(time.perf_counter() - t0, 1),
        "write_rows_per_s": round(n / write_s),
        "compact_s": round(compact_s, 1),
    }


def questions(now: datetime) -> dict[str, tuple[str, str, dict[str, Any]]]:
    def rng(delta: timedelta) -> dict[str, str]:
        return {"from": (now - delta).isoformat(), "to": now.isoformat()}

    return {
        "overview_24h_by_hour": (
            "GET",
            "/api/v1/metrics/overview",
            {**rng(timedelta(hours=24)), "bucket": "1h"},
        ),
        "p95_latency_and_cost_by_model_one_asset_7d": (
            "POST",
            "/api/v1/query",
            {
                "time_range": rng(timedelta(days=7)),
                "filters": [{"field": "asset_id", "op": "eq", "value": "app-03"}],
                "group_by": ["model_id"],
                "aggregates": [
                    {"fn": "p95", "field": "latency_ms", "as": "p95"},
                    {"fn": "sum", "field": "cost_usd", "as": "cost"},
                ],
            },
        ),
        "count_by_status_last_hour": (
            "POST",
            "/api/v1/query",
            {
                "time_range": rng(timedelta(hours=1)),
                "group_by": ["status"],
                "aggregates": [{"fn": "count", "as": "n"}],
            },
        ),
        "top10_assets_by_cost_30d": (
            "POST",
            "/api/v1/query",
            {
                "time_range": rng(timedelta(days=30)),
                "group_by": ["asset_id"],
                "aggregates": [{"fn": "sum", "field": "cost_usd", "as": "cost"}],
                "order_by": [{"field": "cost", "direction": "desc"}],
                "limit": 10,
            },
        ),
        "raw_events_page": ("GET", "/api/v1/events", {"limit": 100}),
    }


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    for _ in range(2):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument(
        "--data",
        type=Path,
        default=None,
        help="keep the loaded data here and reuse it on later runs (default: a temp dir)",
    )
    args = ap.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    result: dict[str, Any] = {"benchmark": "dashboard_queries_embedded", "events": args.events}
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp) / "hub"
        data.mkdir(parents=True, exist_ok=True)
        marker = data / "loaded.json"
        if marker.exists():
            loaded = json.loads(marker.read_text())
            now = datetime.fromisoformat(loaded["now"])
            result["load"] = {"reused": str(data), **loaded["load"]}
        else:
            result["load"] = load(data / "events.duckdb", args.events, now, args.days)
            marker.write_text(json.dumps({"now": now.isoformat(), "load": result["load"]}))
        key = create_key(data, "acme", "read")
        qs = questions(now)
        hub = HubProcess(data_dir=data, env={"HUB_LOG_LEVEL": "warning"}).start(timeout=300)
        http: dict[str, Any] = {}
        try:
            with httpx.Client(
                base_url=hub.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
            ) as c:
                for name, (method, path, body) in qs.items():

                    def call(
                        method: str = method, path: str = path, body: dict[str, Any] = body
                    ) -> Any:
                        r = c.get(path, params=body) if method == "GET" else c.post(path, json=body)
                        r.raise_for_status()
                        return r.json()

                    sample = call()
                    ms = timed(call, args.runs)
                    http[name] = {
                        "p50_ms": pct(ms, 0.5),
                        "p95_ms": pct(ms, 0.95),
                        "p99_ms": pct(ms, 0.99),
                        "source": sample.get("meta", {}).get("source", "n/a"),
                    }
        finally:
            hub.stop()
        # reference: the same typed questions from raw events only, in process
        store = DuckDBStore(data / "events.duckdb", memory_limit="2GB")
        svc = QueryService(store)
        raw: dict[str, Any] = {}
        for name, (method, _, body) in qs.items():
            if method != "POST":
                continue
            q = Query.model_validate(body)
            ms = timed(lambda q=q: svc.run("acme", q, allow_rollups=False), max(5, args.runs // 3))
            raw[name] = {"p50_ms": pct(ms, 0.5), "p95_ms": pct(ms, 0.95)}
            http[name]["ratio_p95_hub_http_to_raw_in_process"] = round(
                http[name]["p95_ms"] / raw[name]["p95_ms"], 3
            )
        store.close()
    result["http"] = http
    result["reference_raw_events_in_process"] = raw
    result["max_p95_ms"] = max(v["p95_ms"] for v in http.values())
    result["target_p95_ms"] = 100
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
