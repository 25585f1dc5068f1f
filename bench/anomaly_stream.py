"""Streaming anomaly detection: how long after a minute closes its anomalies are stored.

Writes ``--history-hours`` of model calls for ``--series`` series (tenant, asset, model)
through the store's event path (DuckDB, or PostgreSQL with ``--postgres URL``), lets the
scorer prime every series from that history (as at start-up), then plays ``--minutes``
more minutes. Each minute's events go through the ingest pipeline as in the hub (the
journal, acknowledged once durable, and the writer thread committing them); ``--grace``
real seconds later the scorer's tick runs as the background task runs it, first waiting
at the pipeline's barrier until everything acknowledged is committed. A spike is planted
in a few series each minute so that there is something to store. The scorer's clock runs
in real time from the moment the minute closed.

Figures: ``end_to_stored_*_ms`` from the minute's end until its anomalies were stored
(the grace, the barrier and the tick: the delay a user sees); ``close_to_stored_*_ms``
from the close (the end plus the grace) until then; ``settle_*_ms`` the barrier alone.
With ``--nats URL`` the minutes go through a NATS JetStream bus instead (a throw-away
stream), committed by a writer pipeline, and the scorer waits at the barrier of a second
pipeline on the same stream that does not commit, as an analytics worker apart from the
writers does (the writer group's ack floor).
The reference, measured in the same run, is the one rollup query of the tick alone
(``rollup_query_*_ms``: the same ``series_minutes`` call, timed again right after the
tick). Also priming time, memory per series, and the time the tick spent in Python's
cyclic garbage collector (``tick_gc_*``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import math
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from analytics_hub.analytics.anomaly.stream import AnomalyStream, StreamConfig
from analytics_hub.bus.base import EventBus
from analytics_hub.bus.journal import JournalBus
from analytics_hub.bus.nats import NatsBus
from analytics_hub.ingest.busrouting import route_batch
from analytics_hub.ingest.pipeline import Pipeline
from analytics_hub.store.base import EventStore
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.store.postgres import PostgresStore
from analytics_hub.testing import nats as natstest
from analytics_hub.testing.postgres import temporary_database
from analytics_hub.testing.rows import make_minute_rows

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RealClock:
    """Simulated time that starts at a given moment and then runs with the real clock."""

    def __init__(self) -> None:
        self._base = NOW
        self._at = time.perf_counter()

    def start(self, moment: datetime) -> None:
        self._base, self._at = moment, time.perf_counter()

    def __call__(self) -> datetime:
        return self._base + timedelta(seconds=time.perf_counter() - self._at)


class GcPauses:
    """Time the interpreter spends in cyclic garbage collections, by generation."""

    def __init__(self) -> None:
        self._began = 0.0
        self.ms = [0.0, 0.0, 0.0]
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.ms[info["generation"]] += (time.perf_counter() - self._began) * 1000

    def take(self) -> list[float]:
        """The pauses since the last call, per generation (ms)."""
        out, self.ms = self.ms, [0.0, 0.0, 0.0]
        return out


def _series(n: int) -> list[tuple[str, str]]:
    return [(f"tenant-{k % 5}", f"asset-{k:04d}") for k in range(n)]


def _minute_table(
    series: list[tuple[str, str]], minute: datetime, spikes: set[int], seed: int
) -> pa.Table:
    tables = []
    for k, (tenant, asset) in enumerate(series):
        calls = 60 if k in spikes else 6
        tables.append(
            make_minute_rows(
                [calls],
                start=minute,
                tenant=tenant,
                asset_id=asset,
                seed=seed * 100_000 + k,
                error_rate=0.5 if k in spikes else 0.02,
            )
        )
    return pa.concat_tables(tables)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--history-hours", type=float, default=28.0)
    ap.add_argument("--minutes", type=int, default=20)
    ap.add_argument("--grace", type=float, default=0.5, help="the hub's default with a barrier")
    ap.add_argument(
        "--postgres", default="", help="a PostgreSQL server URL: runs in a new database there"
    )
    ap.add_argument(
        "--nats",
        default="",
        help="a NATS server URL: the minutes go through JetStream, and the scorer waits at"
        " the barrier of a pipeline that does not commit (an analytics worker)",
    )
    args = ap.parse_args()

    series = _series(args.series)
    history = int(args.history_hours * 60)
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if args.postgres:
            store: EventStore = PostgresStore(
                stack.enter_context(temporary_database(args.postgres))
            )
        else:
            store = DuckDBStore(workdir / "e.db")
        store.migrate()
        rng = np.random.default_rng(0)
        t0 = time.perf_counter()
        for k, (tenant, asset) in enumerate(series):
            level = 6 + 2 * np.sin(np.arange(history) * 2 * math.pi / 1440)
            counts = [int(c) for c in rng.poisson(level)]
            counts[-1] = max(counts[-1], 1)  # seen in the last minute: primed at the first tick
            store.write_events(
                make_minute_rows(
                    counts,
                    start=NOW - history * MINUTE,
                    tenant=tenant,
                    asset_id=asset,
                    seed=k,
                )
            )
        load_s = time.perf_counter() - t0

        clock = RealClock()
        config = StreamConfig(
            grace_s=args.grace,
            warm_start_hours=args.history_hours,
            max_series=max(1000, args.series),
            prime_batch=25,
            prime_budget_s=10_000.0,  # prime everything in the first tick
        )
        if args.nats:
            name, prefix = natstest.unique_names("benchas")
            stack.callback(natstest.delete_streams, args.nats, name, f"{name}_DEAD")

            def bus() -> EventBus:
                return NatsBus(
                    args.nats,
                    capacity=1_000_000,
                    stream=name,
                    subject_prefix=prefix,
                    router=functools.partial(route_batch, partitions=4),
                )

            pipeline = Pipeline(store, bus())
            analytics = Pipeline(store, bus(), writer=False)
            analytics.start()
            stack.callback(analytics.stop)
            assert analytics.can_settle
            barrier = analytics.settle
        else:
            pipeline = Pipeline(store, JournalBus(workdir / "journal", capacity=1_000_000))
            barrier = pipeline.settle
        pipeline.start()
        stream = AnomalyStream(store, config, clock=clock, settle=barrier)
        rss_before = _rss_mb()
        clock.start(NOW + timedelta(seconds=args.grace))
        t0 = time.perf_counter()
        first = stream.tick()
        prime_s = time.perf_counter() - t0
        assert first is not None
        assert first.primed == args.series, first

        stored: list[float] = []
        settle: list[float] = []
        reference: list[float] = []
        score: list[float] = []
        record_latency: list[float] = []
        anomalies = 0
        pauses = GcPauses()
        gc_full: list[float] = []  # per tick: full collections' pauses (ms)
        gc_young: list[float] = []  # per tick: the younger generations' (ms)
        for m in range(args.minutes):
            minute = NOW + m * MINUTE
            spikes = {(m * 7 + j) % args.series for j in range(max(1, args.series // 20))}
            table = _minute_table(series, minute, spikes, seed=m + 1)
            for chunk in table.to_batches(max_chunksize=500):  # requests of 500 events
                pipeline.submit(pa.Table.from_batches([chunk])).result(30)
            time.sleep(args.grace)  # the writer commits meanwhile, as in the hub
            clock.start(minute + MINUTE + timedelta(seconds=args.grace))
            pauses.take()
            report = stream.tick()
            young0, young1, full = pauses.take()
            gc_full.append(full)
            gc_young.append(young0 + young1)
            assert report is not None
            assert report.series == args.series
            assert report.rows == args.series, "every series' minute is read"
            stored.append(report.stored_ms)
            settle.append(report.settle_ms)
            score.append(report.score_ms)
            t = time.perf_counter()
            store.series_minutes(minute, minute + MINUTE)
            reference.append((time.perf_counter() - t) * 1000)
            anomalies += len(report.anomalies)
            record_latency += [a.latency_ms for a in report.anomalies if a.latency_ms is not None]
        rss_after = _rss_mb()
        pipeline.stop()
        store.close()

    close_to_stored = [a + b for a, b in zip(settle, stored, strict=True)]
    end_to_stored = [args.grace * 1000 + c for c in close_to_stored]
    result = {
        "benchmark": "anomaly_stream",
        "store": "postgres" if args.postgres else "duckdb",
        "bus": "nats (the scorer apart from the writer)" if args.nats else "journal",
        "series": args.series,
        "minutes": args.minutes,
        "grace_s": args.grace,
        "end_to_stored_median_ms": round(statistics.median(end_to_stored), 1),
        "end_to_stored_p95_ms": round(_p95(end_to_stored), 1),
        "close_to_stored_median_ms": round(statistics.median(close_to_stored), 1),
        "close_to_stored_p95_ms": round(_p95(close_to_stored), 1),
        "end_to_stored_each_ms": [round(v) for v in end_to_stored],
        "settle_each_ms": [round(v) for v in settle],
        "settle_median_ms": round(statistics.median(settle), 1),
        "settle_p95_ms": round(_p95(settle), 1),
        "rollup_query_median_ms": round(statistics.median(reference), 1),
        "rollup_query_p95_ms": round(_p95(reference), 1),
        "stored_over_query_median": round(
            statistics.median(close_to_stored) / statistics.median(reference), 2
        ),
        "scoring_median_ms": round(statistics.median(score), 1),
        "tick_gc_full_each_ms": [round(v) for v in gc_full],
        "tick_gc_young_median_ms": round(statistics.median(gc_young), 1),
        "scoring_per_series_median_ms": round(statistics.median(score) / args.series, 3),
        "record_latency_median_ms": round(statistics.median(record_latency), 1)
        if record_latency
        else None,
        "record_latency_p95_ms": round(_p95(record_latency), 1) if record_latency else None,
        "anomalies_stored": anomalies,
        "history_load_s": round(load_s, 1),
        "prime_s": round(prime_s, 1),
        "prime_s_per_series": round(prime_s / args.series, 3),
        "peak_rss_growth_mb_per_series": round((rss_after - rss_before) / args.series, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
