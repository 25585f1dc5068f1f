"""``make bench``: run every benchmark, three times each, and print one JSON object per run.

Medians matter on a noisy 2-core machine: the summary line gives the median of each
headline figure over the runs. ``--quick`` runs a short version of each (for smoke
testing, not for the figures).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS: dict[str, tuple[list[str], list[str], list[str]]] = {
    # name: (full args, quick args, headline figures)
    "events_decode": ([], ["--seconds", "0.5", "--runs", "1"], ["events_per_s"]),
    "store_write": ([], ["--batches", "4", "--repeats", "1"], ["write_events_rows_per_s"]),
    "ingest": (
        ["--seconds", "20"],
        ["--seconds", "5"],
        ["acknowledged_events_per_s", "server_peak_rss_mb"],
    ),
    "query": ([], ["--events", "400000", "--runs", "5"], ["max_p95_ms"]),
    # PostgreSQL and Redis; loads 10 million events into hub_bench_cache_10000000 once.
    "query_cache": (
        [],
        ["--events", "400000", "--runs", "5", "--repeats", "1"],
        ["without_cache_max_p95_ms", "warm_cache_max_p95_ms"],
    ),
    "anomaly_nab": ([], ["--quick"], ["nab_standard", "nab_reward_low_fp"]),
    "anomaly_stream": (
        [],
        ["--series", "10", "--minutes", "3"],
        ["close_to_stored_median_ms", "close_to_stored_p95_ms", "rollup_query_median_ms"],
    ),
    # The same in the distributed layout, each role its own process, on the real clock.
    "anomaly_layout": (
        [],
        ["--series", "20", "--minutes", "3", "--setup-seconds", "45"],
        ["end_to_published_median_ms", "end_to_published_p95_ms", "rollup_query_median_ms"],
    ),
    "pricing": ([], ["--seconds", "0.5", "--runs", "1"], ["pricing_ns_per_event"]),
    "forecast_m4": ([], ["--quick"], ["ensemble_owa", "latency_30d_daily_ms"]),
    # A real `analytics-hub serve` with four weeks of demo data (two with --quick).
    "forecast_api": (
        [],
        ["--quick"],
        ["daily_30d_http_median_ms", "daily_30d_http_p95_ms", "hourly_48h_http_median_ms"],
    ),
    # CPU per span of the OTLP trace path, protobuf bytes to bus message, by stage.
    "otlp_mapping": (
        [],
        ["--seconds", "0.2", "--runs", "1"],
        ["parse_map_us_per_span", "bytes_to_bus_us_per_span", "mixed_parse_map_us_per_span"],
    ),
    # OTLP/HTTP protobuf spans into a real hub, against the REST path in the same run.
    "otlp": (
        ["--runs", "1"],
        ["--seconds", "3", "--runs", "1"],
        ["acknowledged_spans_per_s", "server_peak_rss_mb", "ratio_otlp_to_rest"],
    ),
    # Native gRPC streams into a real hub, against the REST path in the same run.
    "grpc_stream": (
        ["--runs", "1"],
        ["--seconds", "3", "--runs", "1"],
        ["acknowledged_events_per_s", "server_peak_rss_mb", "ratio_grpc_to_rest"],
    ),
    # Role processes on PostgreSQL and JetStream, against raw COPY in the same run.
    "distributed": (
        ["--runs", "1"],
        ["--seconds", "5", "--runs", "1"],
        ["stored_events_per_s", "consumer_lag_events_max", "ratio_stored_to_raw_copy"],
    ),
    # Loads 10 million events once into bench/results/ and reuses them on later runs.
    "ui": (
        ["--data", str(HERE / "results" / "ui-data-10m")],
        ["--events", "400000", "--runs", "2"],
        ["navigation_to_charts_median_ms"],
    ),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = ap.parse_args()
    runs = 1 if args.quick else args.runs
    summary: dict[str, dict[str, float]] = {}
    for name, (full, quick, headline) in BENCHMARKS.items():
        if args.names and name not in args.names:
            continue
        script = HERE / f"{name}.py"
        if not script.exists():
            continue
        figures: dict[str, list[float]] = {h: [] for h in headline}
        for _ in range(runs):
            out = (
                subprocess.run(
                    [sys.executable, str(script), *(quick if args.quick else full)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            print(out, flush=True)
            data = json.loads(out)
            for h in headline:
                if isinstance(data.get(h), int | float):
                    figures[h].append(float(data[h]))
        summary[name] = {f"median_{h}": statistics.median(v) for h, v in figures.items() if v}
    print(json.dumps({"benchmark": "summary", "runs": runs, "medians": summary}))


if __name__ == "__main__":
    main()
