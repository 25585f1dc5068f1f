"""Forecast accuracy on the M4 Hourly series, scored the M4 way, plus forecast latency.

Every series in ``--data`` (a folder with ``Hourly-train.csv`` and ``Hourly-test.csv`` in
the M4 layout; default ``../shared/datasets/m4`` beside the repository) is forecast 48
hours ahead by each model and by the default ensemble (seasons 24 and 168), and scored
against the organisers' test window: sMAPE, MASE (season 24), OWA relative to Naive2
computed in this run, MSIS and coverage of the 95% interval, and the mean and median
per-series MAPE. The published anchors in the data folder are printed beside ours.

``--validate`` scores the last 48 *training* values instead of the test window: the mode
for choosing settings (members, weighting) without ever looking at the test data.

It also times ``forecast()`` answering a 30-day forecast from 180 daily points with the
ensemble and its back-test (what ``POST /api/v1/forecast`` does), median of ``--runs``.

The optional models (``prophet``, and ``lstm`` of the ``deep`` extra) are scored when
their library is installed; under ``--quick`` the LSTM is left out (a few seconds of CPU
per series) unless ``--deep`` asks for it. A model not run is listed in the JSON under
``skipped`` with the reason. ``--models`` restricts the single models scored (Naive2 is
always scored: OWA needs it), for runs that compare ensembles.

The last line of stdout is one JSON object with the figures.

    python bench/forecast_m4.py [--data PATH] [--quick] [--validate] [--workers 2]
                                [--deep] [--members a,b] [--models a,b]
"""

from __future__ import annotations

import os

# One BLAS thread per process: statsmodels' small matrix products gain nothing from
# threads, and two worker processes each spawning a thread pool on two cores made the
# run five times slower when measured. Must be set before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from analytics_hub.analytics.forecast import metrics  # noqa: E402
from analytics_hub.analytics.forecast.base import ForecastFailedError, Prediction  # noqa: E402
from analytics_hub.analytics.forecast.ensemble import DEFAULT_MEMBERS  # noqa: E402
from analytics_hub.analytics.forecast.registry import default_registry  # noqa: E402
from analytics_hub.analytics.forecast.service import forecast  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "m4"
HORIZON = 48
SEASON = 24
SEASONS = (24, 168)  # daily and weekly cycles of hourly data
LEVEL = 0.95
MODELS = ("seasonal_naive", "naive2", "ets", "arima", "theta", "mstl_ets", "mstl_arima")
#: models of optional extras, scored where their library is installed
OPTIONAL = ("prophet", "lstm")
QUICK_EVERY = 16  # --quick scores every 16th series (18 of the shared 276), in file order
TARGET_OWA = 0.55
TARGET_LATENCY_MS = 2000.0


def read_series(path: Path) -> dict[str, np.ndarray]:
    """Series id -> values from an M4 wide CSV (quoted, padded with empty fields)."""
    out: dict[str, np.ndarray] = {}
    with path.open(newline="") as fh:
        rows = csv.reader(fh)
        next(rows)  # header "V1","V2",...
        for row in rows:
            out[row[0]] = np.array([float(v) for v in row[1:] if v != ""])
    return out


def score_series(
    task: tuple[str, np.ndarray, np.ndarray, tuple[str, ...], float, tuple[str, ...]],
) -> dict[str, Any]:
    """Fit every model and the ensemble on one series; per-model errors and fit time."""
    sid, history, actual, members, power, models = task
    registry = default_registry()
    preds: dict[str, Prediction] = {}
    seconds: dict[str, float] = {}
    failed: list[str] = []
    weights: dict[str, float] = {}
    start = time.process_time()
    try:
        ensemble = registry.ensemble(members, power=power).fit(history, SEASONS)
        preds["ensemble"] = ensemble.predict(HORIZON, LEVEL)
        # The members are already fitted on the whole history: reuse their forecasts.
        preds.update(ensemble.member_predictions(HORIZON, LEVEL))
        weights = ensemble.weights
    except ForecastFailedError:
        failed.append("ensemble")
        preds["ensemble"] = registry.create("seasonal_naive").fit(history, SEASONS).predict(HORIZON)
    seconds["ensemble"] = time.process_time() - start
    for name in models:
        if name in preds:
            continue
        start = time.process_time()
        try:
            preds[name] = registry.create(name).fit(history, SEASONS).predict(HORIZON, LEVEL)
        except ForecastFailedError:
            # Score a failed model as the seasonal naive would have done, and count it.
            failed.append(name)
            preds[name] = registry.create("seasonal_naive").fit(history, SEASONS).predict(HORIZON)
        seconds[name] = time.process_time() - start
    scores = {
        name: {
            "smape": metrics.smape(actual, p.mean),
            "mase": metrics.mase(history, actual, p.mean, SEASON),
            "msis": metrics.msis(history, actual, p.lower, p.upper, SEASON, LEVEL),
            "coverage": metrics.coverage(actual, p.lower, p.upper),
            "mape": metrics.mape(actual, p.mean),
        }
        for name, p in preds.items()
    }
    return {"id": sid, "scores": scores, "seconds": seconds, "failed": failed, "weights": weights}


def choose_models(only: str, quick: bool, deep: bool) -> tuple[tuple[str, ...], dict[str, str]]:
    """The single models to score (Naive2 always), and the optional ones left out, why."""
    registry = default_registry()
    wanted = [m for m in only.split(",") if m] or [*MODELS, *OPTIONAL]
    skipped: dict[str, str] = {}
    for name in OPTIONAL:
        if name not in wanted:
            continue
        if name in registry.unavailable():
            skipped[name] = registry.unavailable()[name]
        elif name == "lstm" and quick and not deep:
            skipped[name] = (
                "the LSTM is not run under --quick (seconds of CPU per series); add --deep"
            )
    models = tuple(dict.fromkeys(["naive2", *(m for m in wanted if m not in skipped)]))
    return models, skipped


def _nice() -> None:
    os.nice(10)  # the machine is shared: let interactive work go first


def latency(runs: int) -> list[float]:
    """Seconds for a 30-day forecast (with back-test) from 180 daily points, per run."""
    rng = np.random.default_rng(7)
    days = np.arange(180)
    values = 100.0 + 0.2 * days + 15.0 * np.sin(2 * np.pi * days / 7) + rng.normal(0, 4, 180)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        forecast(values, start=start, step=dt.timedelta(days=1), horizon=30)
        out.append(time.perf_counter() - t)
    return out


def anchors(data: Path) -> list[str]:
    """Lines describing the published scores found in the data folder (if any)."""
    lines: list[str] = []
    published = data / "published_hourly_scores.csv"
    if published.exists():
        with published.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        lines.append("published, all 414 Hourly series (sMAPE / MASE / OWA):")
        for row in rows:
            if int(row["hourly_rank_owa"]) <= 3 or row["kind"] != "submission":
                lines.append(
                    f"  {row['method']:<22} {float(row['hourly_smape']):7.3f} "
                    f"{float(row['hourly_mase']):6.3f} {float(row['hourly_owa']):6.3f}"
                )
    subset = data / "subset_scores_shared.csv"
    if subset.exists():
        with subset.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        lines.append("published forecasts scored on the 276 shared series (sMAPE / MASE / OWA):")
        for row in rows:
            lines.append(
                f"  {row['method']:<22} {float(row['smape']):7.3f} "
                f"{float(row['mase']):6.3f} {float(row['owa_vs_naive2']):6.3f}  ({row['source']})"
            )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with Hourly-*.csv")
    ap.add_argument("--quick", action="store_true", help=f"every {QUICK_EVERY}th series only")
    ap.add_argument("--validate", action="store_true", help="score the training tails instead")
    ap.add_argument("--workers", type=int, default=2, help="processes (at most 2)")
    ap.add_argument("--runs", type=int, default=5, help="latency runs (median reported)")
    ap.add_argument("--members", default=",".join(DEFAULT_MEMBERS), help="ensemble members")
    ap.add_argument("--power", type=float, default=2.0, help="weight = error ** -power")
    ap.add_argument("--deep", action="store_true", help="score the LSTM under --quick too")
    ap.add_argument("--models", default="", help="single models to score (default: all)")
    args = ap.parse_args()
    began = time.perf_counter()

    train = read_series(args.data / "Hourly-train.csv")
    test = read_series(args.data / "Hourly-test.csv")
    ids = [sid for sid in train if sid in test]
    if args.quick:
        ids = ids[::QUICK_EVERY]
    members = tuple(m for m in args.members.split(",") if m)
    models, skipped = choose_models(args.models, args.quick, args.deep)
    for name, reason in skipped.items():
        print(f"skipped {name}: {reason}")
    tasks = []
    for sid in ids:
        if args.validate:
            history, actual = train[sid][:-HORIZON], train[sid][-HORIZON:]
        else:
            history, actual = train[sid], test[sid][:HORIZON]
        tasks.append((sid, history, actual, members, args.power, models))

    workers = max(1, min(2, args.workers))
    with multiprocessing.Pool(workers, initializer=_nice) as pool:
        results = pool.map(score_series, tasks, chunksize=2)
    accuracy_seconds = time.perf_counter() - began
    lat = latency(args.runs)

    names = ["ensemble", *members, *(m for m in models if m not in members)]
    summary: dict[str, dict[str, float]] = {}
    for name in names:
        rows = [r["scores"][name] for r in results]
        summary[name] = {
            "smape": float(np.mean([r["smape"] for r in rows])),
            "mase": float(np.mean([r["mase"] for r in rows])),
            "msis": float(np.mean([r["msis"] for r in rows])),
            "coverage": float(np.mean([r["coverage"] for r in rows])),
            "mape_mean": float(np.mean([r["mape"] for r in rows])),
            "mape_median": float(np.median([r["mape"] for r in rows])),
            "cpu_s_per_series": float(np.mean([r["seconds"].get(name, 0.0) for r in results])),
        }
    base = summary["naive2"]
    for name in names:
        s = summary[name]
        s["owa"] = metrics.owa(s["smape"], s["mase"], base["smape"], base["mase"])

    split = "training tails (--validate)" if args.validate else "test windows"
    print(f"M4 Hourly, {len(ids)} series, horizon {HORIZON}, scored on the {split}")
    print(f"ensemble members: {', '.join(members)} (weight = holdout MAE ** -{args.power:g})")
    print(
        f"{'model':<16}{'sMAPE':>8}{'MASE':>8}{'OWA':>8}{'MSIS':>9}{'cover':>7}"
        f"{'MAPE':>8}{'MAPEmed':>8}{'cpu s':>7}"
    )
    for name in names:
        s = summary[name]
        print(
            f"{name:<16}{s['smape']:8.3f}{s['mase']:8.3f}{s['owa']:8.3f}{s['msis']:9.3f}"
            f"{s['coverage']:7.3f}{s['mape_mean']:8.2f}{s['mape_median']:8.2f}"
            f"{s['cpu_s_per_series']:7.2f}"
        )
    for line in anchors(args.data):
        print(line)
    failures = sorted({f"{r['id']}:{m}" for r in results for m in r["failed"]})
    if failures:
        print(f"models that failed (scored as seasonal naive): {', '.join(failures)}")
    median_ms = statistics.median(lat) * 1000
    print(
        f"30-day forecast from 180 daily points (ensemble + back-test): median {median_ms:.0f} ms"
    )

    ens = summary["ensemble"]
    print(
        json.dumps(
            {
                "benchmark": "forecast_m4",
                "series": len(ids),
                "quick": args.quick,
                "split": "validation" if args.validate else "test",
                "horizon": HORIZON,
                "seasons": list(SEASONS),
                "ensemble_members": list(members),
                "ensemble_power": args.power,
                "ensemble_smape": round(ens["smape"], 3),
                "ensemble_mase": round(ens["mase"], 3),
                "ensemble_owa": round(ens["owa"], 4),
                "ensemble_msis": round(ens["msis"], 3),
                "ensemble_coverage_95": round(ens["coverage"], 3),
                "ensemble_mape_mean": round(ens["mape_mean"], 3),
                "ensemble_mape_median": round(ens["mape_median"], 3),
                "naive2_smape": round(base["smape"], 3),
                "naive2_mase": round(base["mase"], 3),
                "target_owa": TARGET_OWA,
                "models": {n: {k: round(v, 4) for k, v in s.items()} for n, s in summary.items()},
                "model_failures": len(failures),
                "skipped": skipped,
                "latency_30d_daily_ms": round(median_ms, 1),
                "latency_runs_ms": [round(v * 1000, 1) for v in lat],
                "latency_target_ms": TARGET_LATENCY_MS,
                "accuracy_wall_s": round(accuracy_seconds, 1),
                "workers": workers,
                "run_wall_s": round(time.perf_counter() - began, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
