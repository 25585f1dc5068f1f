"""Dashboard queries on PostgreSQL over HTTP: without the result cache, and with a warm
Redis cache, beside the raw Redis GET round trip.

Loads ``--events`` events (default 10 million over 30 days, three tenants) through
``PostgresStore.write_events`` into a database named after the count
(``hub_bench_cache_<events>``) on the server of ``--url``, once: a later run finds the
marker table and reuses the data (``--reload`` starts over). Then it starts two
``analytics-hub serve`` processes on that database, one with the result cache off
(``HUB_CACHE_TTL_SECONDS=0``: every answer from PostgreSQL, rollups where they answer)
and one with ``HUB_CACHE`` on the Redis of ``--redis`` (a TTL longer than the run, so the
cache stays warm), and asks both the dashboard's questions over HTTP. The reference,
measured in the same run from this process: a Redis ``GET`` of a value the size of the
overview's cached entry. Each figure is the median over ``--repeats`` rounds of
``--runs`` calls (after two warm-up calls). The database is analysed first (``ANALYZE``,
as autovacuum would have done), so that the planner has statistics. Prints one JSON
object.

    python bench/query_cache.py [--events 10000000] [--runs 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pyarrow as pa
from psycopg import sql
from redis import Redis

from analytics_hub.auth.keys import KeyService
from analytics_hub.server.stores import open_control_store
from analytics_hub.settings import load_settings
from analytics_hub.store.postgres import PostgresStore
from analytics_hub.testing.hubprocess import HubProcess
from analytics_hub.testing.postgres import DEFAULT_TEST_URL, with_database
from analytics_hub.testing.rows import make_event_rows

TENANTS = ["acme", "globex", "initech"]
CHUNK = 200_000
TARGET_P95_MS = {"without_cache": 200, "warm_cache": 20}


def _chunk(args: tuple[int, datetime, timedelta, int]) -> pa.Table:
    i, start, step, n = args
    return make_event_rows(
        n, start=start + i * CHUNK * step, step=step, seed=i, tenants=TENANTS, assets=20
    )


def database(server_url: str, events: int, *, reload: bool) -> tuple[str, dict[str, Any]]:
    """The URL of the loaded database and what its load took (loading it if needed)."""
    name = f"hub_bench_cache_{events}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reload:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(server_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_load (now timestamptz, load jsonb)")
        row = conn.execute("SELECT now, load FROM bench_load").fetchone()
    if row is not None:
        return url, {"reused": name, "now": row[0].isoformat(), **row[1]}
    # A load that was interrupted left partial data: start the database over.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_load")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    now = datetime.now(UTC).replace(microsecond=0)
    load = load_events(url, events, now, days=30.0)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_load (now timestamptz, load jsonb)")
        conn.execute("INSERT INTO bench_load VALUES (%s, %s)", [now, json.dumps(load)])
    return url, {"loaded": name, "now": now.isoformat(), **load}


def load_events(url: str, n: int, now: datetime, days: float) -> dict[str, float]:
    """Write ``n`` generated events ending at ``now``, then compact the rollups."""
    step = timedelta(days=days) / n
    start = now - timedelta(days=days)
    store = PostgresStore(url, read_pool_size=1, write_pool_size=2)
    store.migrate()
    began = time.perf_counter()
    write_s = 0.0
    jobs = [(i, start, step, min(CHUNK, n - i * CHUNK)) for i in range((n + CHUNK - 1) // CHUNK)]
    with mp.Pool(2) as pool:
        for table in pool.imap(_chunk, jobs):
            w = time.perf_counter()
            store.write_events(table)
            write_s += time.perf_counter() - w
    c = time.perf_counter()
    store.compact_rollups(now.replace(tzinfo=None))
    compact_s = time.perf_counter() - c
    store.close()
    return {
        "load_s": round(time.perf_counter() - began, 1),
        "write_rows_per_s": round(n / write_s),
        "compact_s": round(compact_s, 1),
    }


def questions(now: datetime) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """The dashboard's questions; ranges end at the next whole minute, as the UI asks."""
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)

    def rng(delta: timedelta) -> dict[str, str]:
        return {"from": (end - delta).isoformat(), "to": end.isoformat()}

    def query(delta: timedelta, **parts: Any) -> dict[str, Any]:
        return {"time_range": rng(delta), **parts}

    calls = [{"field": "payload_subtype", "op": "eq", "value": "llm_call"}]
    return {
        "overview_24h_by_15m": (
            "GET",
            "/api/v1/metrics/overview",
            {**rng(timedelta(hours=24)), "bucket": "15m"},
        ),
        "overview_7d_by_1h": (
            "GET",
            "/api/v1/metrics/overview",
            {**rng(timedelta(days=7)), "bucket": "1h"},
        ),
        "cost_by_model_per_hour_7d": (
            "POST",
            "/api/v1/query",
            query(
                timedelta(days=7),
                filters=calls,
                group_by=[{"bucket": "1h"}, "model_id"],
                aggregates=[{"fn": "sum", "field": "cost_usd", "as": "cost"}],
                limit=5000,
            ),
        ),
        "p95_latency_by_model_one_asset_7d": (
            "POST",
            "/api/v1/query",
            query(
                timedelta(days=7),
                filters=[*calls, {"field": "asset_id", "op": "eq", "value": "app-03"}],
                group_by=["model_id"],
                aggregates=[{"fn": "p95", "field": "latency_ms", "as": "p95"}],
            ),
        ),
        "errors_by_status_last_hour": (
            "POST",
            "/api/v1/query",
            query(timedelta(hours=1), group_by=["status"], aggregates=[{"fn": "count", "as": "n"}]),
        ),
        "top10_assets_by_cost_30d": (
            "POST",
            "/api/v1/query",
            query(
                timedelta(days=30),
                group_by=["asset_id"],
                aggregates=[{"fn": "sum", "field": "cost_usd", "as": "cost"}],
                order_by=[{"field": "cost", "direction": "desc"}],
                limit=10,
            ),
        ),
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    for _ in range(2):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def caller(c: httpx.Client, method: str, path: str, body: dict[str, Any]) -> Callable[[], Any]:
    def call() -> Any:
        r = c.get(path, params=body) if method == "GET" else c.post(path, json=body)
        r.raise_for_status()
        return r.content

    return call


def create_key(data: Path, store_url: str) -> str:
    """A read key where a hub on ``data`` and ``store_url`` looks for keys."""
    control = open_control_store(load_settings(data_dir=data, store=store_url))
    try:
        return KeyService(control).create("acme", "read", name="bench")[1]
    finally:
        control.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=os.environ.get("HUB_TEST_POSTGRES_URL", DEFAULT_TEST_URL))
    ap.add_argument(
        "--redis", default=os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--reload", action="store_true", help="load the data again")
    args = ap.parse_args()

    url, load = database(args.url, args.events, reload=args.reload)
    now = datetime.fromisoformat(load["now"])
    # Planner statistics as autovacuum keeps them in production (a test server may run
    # without it): without them PostgreSQL guesses one row per scan and plans blindly.
    a = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    load["analyze_s"] = round(time.perf_counter() - a, 1)
    prefix = f"hub-bench-{secrets.token_hex(4)}:"
    qs = questions(now)
    base_env = {
        "HUB_STORE": url,
        "HUB_LOG_LEVEL": "warning",
        "HUB_ANOMALY_ENABLED": "false",
        # A reused database keeps its data: the hubs' retention must not trim it.
        "HUB_RETENTION_RAW_DAYS": "3650",
        "HUB_RETENTION_MINUTE_ROLLUP_DAYS": "3650",
        "HUB_RETENTION_HOUR_ROLLUP_DAYS": "3650",
    }
    modes = {
        "without_cache": {**base_env, "HUB_CACHE_TTL_SECONDS": "0"},
        "warm_cache": {
            **base_env,
            "HUB_CACHE": f"{args.redis}?prefix={prefix}",
            "HUB_CACHE_TTL_SECONDS": "3600",
        },
    }
    rounds: dict[str, dict[str, list[tuple[float, float]]]] = {
        m: {q: [] for q in qs} for m in modes
    }
    reference: list[tuple[float, float]] = []
    redis = Redis.from_url(args.redis)
    with tempfile.TemporaryDirectory() as tmp:
        hubs = {m: HubProcess(data_dir=Path(tmp) / m, env=env) for m, env in modes.items()}
        keys = {m: create_key(h.data_dir, url) for m, h in hubs.items()}
        try:
            for hub in hubs.values():
                hub.start(timeout=300)
            clients = {
                m: httpx.Client(
                    base_url=h.url, headers={"Authorization": f"Bearer {keys[m]}"}, timeout=120
                )
                for m, h in hubs.items()
            }
            overview = clients["warm_cache"].get(
                "/api/v1/metrics/overview", params=qs["overview_24h_by_15m"][2]
            )
            redis.set(f"{prefix}reference", b"x" * len(overview.content), px=3_600_000)
            for _ in range(args.repeats):
                for mode, c in clients.items():
                    for name, (method, path, body) in qs.items():
                        ms = timed(caller(c, method, path, body), args.runs)
                        rounds[mode][name].append((pct(ms, 0.5), pct(ms, 0.95)))
                ms = timed(lambda: redis.get(f"{prefix}reference"), args.runs)
                reference.append((pct(ms, 0.5), pct(ms, 0.95)))
            for c in clients.values():
                c.close()
        finally:
            for hub in hubs.values():
                hub.stop()
            stale = list(redis.scan_iter(match=f"{prefix}*", count=1000))
            if stale:
                redis.delete(*stale)
            redis.close()

    def medians(pairs: list[tuple[float, float]]) -> dict[str, float]:
        return {
            "p50_ms": round(statistics.median(p[0] for p in pairs), 2),
            "p95_ms": round(statistics.median(p[1] for p in pairs), 2),
        }

    result: dict[str, Any] = {
        "benchmark": "dashboard_queries_postgres_cache",
        "events": args.events,
        "runs": args.runs,
        "repeats": args.repeats,
        "load": load,
        "reference_redis_get": {**medians(reference), "value_bytes": len(overview.content)},
    }
    for mode in modes:
        figures = {name: medians(pairs) for name, pairs in rounds[mode].items()}
        result[mode] = figures
        result[f"{mode}_max_p95_ms"] = max(f["p95_ms"] for f in figures.values())
        result[f"{mode}_target_p95_ms"] = TARGET_P95_MS[mode]
    result["ratio_warm_cache_p95_to_redis_get_p95"] = round(
        result["warm_cache_max_p95_ms"] / max(result["reference_redis_get"]["p95_ms"], 0.001), 1
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
