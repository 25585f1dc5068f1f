"""Accuracy of the anomaly detectors on the Numenta Anomaly Benchmark (NAB).

Runs every registered detector and the default ensemble over each NAB file in time order
(each detector sees a row only after scoring it), gates each one's scores with the same
alarm gate, and scores them with NAB's standard method: the standard, reward_low_FP_rate
and reward_low_FN_rate profiles, one threshold per detector and profile optimised over
the corpus, normalised so that the null detector scores 0 and the perfect one 100. Also
reports window-level precision, recall, F1 and false alarms per 1,000 normal rows at the
standard-profile threshold, the published scores from the data folder's ``results/``
beside ours, and the evidence behind the default ensemble (its score with each member
removed and with each other detector added, on the whole corpus and on its two halves).

    python bench/anomaly_nab.py [--data PATH] [--quick] [--deep]

``--data`` is a folder laid out like NAB (``data/<category>/*.csv`` and
``labels/combined_windows.json``); the CSV files present are scored. ``--quick`` scores
every third file. The deep detectors of the optional ``deep`` extra (PyTorch) are scored
when it is installed, except under ``--quick`` (they take minutes, not seconds) unless
``--deep`` asks for them; a detector not run is listed in the JSON with ``"skipped"``
and the reason. The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from analytics_hub.analytics.anomaly import nab
from analytics_hub.analytics.anomaly.alarm import AlarmGate
from analytics_hub.analytics.anomaly.ensemble import combine
from analytics_hub.analytics.anomaly.registry import (
    DEFAULT_MEMBERS,
    DEFAULT_QUIET_ROWS,
    DEFAULT_VOTE,
    MemberSpec,
    builtin_registry,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "nab"
#: the detectors of the optional ``deep`` extra: registered only where torch is installed
DEEP_DETECTORS = ("lstm_residual", "autoencoder")
Scores = list[NDArray[np.float64]]


@dataclass
class Series:
    key: str  # "<category>/<file>.csv", as in the label files
    timestamps: NDArray[np.int64]  # seconds since the epoch
    values: NDArray[np.float64]
    labelled: nab.LabelledFile
    half: str  # "A" or "B": alternate files within each category


def _seconds(text: str) -> int:
    return int(np.datetime64(text.strip()[:19].replace(" ", "T"), "s").astype(np.int64))


def load_corpus(data: Path, quick: bool) -> list[Series]:
    """The labelled CSV files under ``data``, sorted; every third one with ``quick``."""
    windows = json.loads((data / "labels" / "combined_windows.json").read_text())
    paths = sorted(data.glob("data/*/*.csv"))
    # halves alternate within each category of the whole folder, --quick or not
    halves: dict[Path, str] = {}
    seen: dict[str, int] = {}
    for path in paths:
        n = seen.get(path.parent.name, 0)
        seen[path.parent.name] = n + 1
        halves[path] = "A" if n % 2 == 0 else "B"
    if quick:
        paths = paths[::3]
    out: list[Series] = []
    for path in paths:
        key = f"{path.parent.name}/{path.name}"
        if key not in windows:
            print(f"skipped {key}: not in combined_windows.json")
            continue
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        ts = np.array([r["timestamp"].replace(" ", "T") for r in rows], dtype="datetime64[s]")
        seconds = ts.astype(np.int64)
        values = np.array([float(r["value"]) for r in rows])
        spans = [(_seconds(a), _seconds(b)) for a, b in windows[key]]
        labelled = nab.label_file(key, seconds, spans)
        out.append(Series(key, seconds, values, labelled, halves[path]))
    if not out:
        raise SystemExit(f"no labelled CSV files under {data}/data")
    return out


def gated(probabilities: Scores) -> Scores:
    """Each file's probabilities through a fresh alarm gate (as a live series would)."""
    return [AlarmGate(DEFAULT_QUIET_ROWS).update_many(p) for p in probabilities]


def evaluate(corpus: list[Series], scores: Scores) -> dict[str, float]:
    """NAB scores under the three profiles and window-level figures at the standard one."""
    files = [s.labelled for s in corpus]
    out: dict[str, float] = {}
    for name, profile in nab.PROFILES.items():
        result = nab.sweep(files, scores, profile)
        out[name] = round(result.normalised, 2)
        out[f"threshold_{name}"] = round(result.threshold, 6)
    counts = nab.WindowCounts()
    for f, s in zip(files, scores, strict=True):
        counts = counts + nab.window_counts(f, s, out["threshold_standard"])
    out.update(
        precision=round(counts.precision, 3),
        recall=round(counts.recall, 3),
        f1=round(counts.f1, 3),
        false_alarms_per_1k_rows=round(counts.false_alarms_per_1k_rows, 3),
        windows_detected=counts.detected,
        windows=counts.windows,
        alarm_events=counts.alarm_events,
    )
    return out


def standard_by_half(corpus: list[Series], scores: Scores) -> dict[str, float]:
    """The standard-profile score of each half of the corpus, thresholds optimised apart."""
    out: dict[str, float] = {}
    for half in ("A", "B"):
        idx = [i for i, s in enumerate(corpus) if s.half == half]
        if idx:
            files = [corpus[i].labelled for i in idx]
            sweep = nab.sweep(files, [scores[i] for i in idx], nab.PROFILES["standard"])
            out[half] = round(sweep.normalised, 2)
    return out


def ensemble_scores(
    members: dict[str, Scores], weights: dict[str, float], damping: dict[str, float] | None = None
) -> Scores:
    """The ensemble's gated scores from its members' probabilities (see Ensemble).

    ``damping``: the floor of each damping member, by label (the others: none).
    """
    names = list(weights)
    floors = [(damping or {}).get(m, 1.0) for m in names]
    n = len(next(iter(members.values())))
    probs = [
        combine(
            np.stack([members[m][i] for m in names]), DEFAULT_VOTE, list(weights.values()), floors
        )
        for i in range(n)
    ]
    return gated(probs)


def anchors(data: Path) -> dict[str, dict[str, float]]:
    """Published scores from ``results/``: the shared-subset table, else the full corpus."""
    subset = data / "results" / "subset_scores_shared.csv"
    full = data / "results" / "final_results.json"
    out: dict[str, dict[str, float]] = {}
    if subset.exists():
        with subset.open(newline="") as fh:
            for row in csv.DictReader(fh):
                out[row["detector"]] = {
                    p: float(row[p]) for p in nab.PROFILES if row.get(p) not in (None, "")
                }
    elif full.exists():
        for name, scores in json.loads(full.read_text()).items():
            out[name] = {p: round(float(v), 2) for p, v in scores.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a folder laid out like NAB")
    ap.add_argument("--quick", action="store_true", help="score every third file only")
    ap.add_argument("--deep", action="store_true", help="score the deep detectors under --quick")
    args = ap.parse_args()
    started = time.perf_counter()
    corpus = load_corpus(args.data, args.quick)
    rows = sum(s.values.size for s in corpus)
    windows = sum(s.labelled.scored_windows for s in corpus)
    print(f"{len(corpus)} files, {rows} rows, {windows} windows")

    registry = builtin_registry()
    skipped = deep_skipped(registry.names(), args.quick, args.deep)
    for name, reason in skipped.items():
        print(f"skipped {name}: {reason}")
    # every registered detector at its defaults, and the ensemble's members as configured
    specs = {name: MemberSpec(name) for name in registry.names() if name not in skipped}
    for member in DEFAULT_MEMBERS:
        specs.setdefault(member.label, MemberSpec(member.name, params=member.params))
    probabilities: dict[str, Scores] = {}
    results: dict[str, dict[str, Any]] = {}
    for label, spec in specs.items():
        t0 = time.perf_counter()
        probabilities[label] = [
            registry.create(spec.name, **spec.params).score_many(
                s.timestamps.astype(np.float64), s.values
            )
            for s in corpus
        ]
        seconds = time.perf_counter() - t0
        scores = gated(probabilities[label])
        results[label] = {
            **evaluate(corpus, scores),
            "halves_standard": standard_by_half(corpus, scores),
            "seconds": round(seconds, 1),
            "rows_per_s": round(rows / seconds),
        }

    weights = {m.label: m.weight for m in DEFAULT_MEMBERS}
    damping = {m.label: m.damping for m in DEFAULT_MEMBERS if m.damping < 1}
    ensemble = ensemble_scores(probabilities, weights, damping)
    results["ensemble"] = {
        **evaluate(corpus, ensemble),
        "halves_standard": standard_by_half(corpus, ensemble),
        "members": weights,
        "damping": damping,
    }

    # the evidence behind the default members: drop each member, add each other detector
    # (at weight 1 and 0.5), run a member at its defaults, vote with equal weights, and
    # vote without damping or with each damping member's floor halved and raised
    variants: dict[str, dict[str, float]] = {}
    for member in DEFAULT_MEMBERS:
        if len(weights) > 1:
            variants[f"without {member.label}"] = {
                k: w for k, w in weights.items() if k != member.label
            }
        if member.params:
            swapped = {k: w for k, w in weights.items() if k != member.label}
            variants[f"{member.name} at its defaults"] = {**swapped, member.name: member.weight}
    in_use = {m.name for m in DEFAULT_MEMBERS}
    for name in registry.names():
        if name not in in_use and name not in skipped:
            variants[f"with {name}"] = {**weights, name: 1.0}
            variants[f"with {name} x0.5"] = {**weights, name: 0.5}
    if len(weights) > 1:
        variants["equal weights"] = dict.fromkeys(weights, 1.0)
    dampings = dict.fromkeys(variants, damping)
    if damping:
        variants["without damping"] = weights
        dampings["without damping"] = {}
        for label, floor in damping.items():
            for other in (floor / 2, (1 + floor) / 2):
                variants[f"{label} damping {other:g}"] = weights
                dampings[f"{label} damping {other:g}"] = {**damping, label: other}
    selection: dict[str, dict[str, Any]] = {}
    for label, members in variants.items():
        scores = ensemble_scores(probabilities, members, dampings[label])
        full = evaluate(corpus, scores)
        selection[label] = {
            "members": members,
            "damping": {k: v for k, v in dampings[label].items() if k in members},
            **{p: full[p] for p in nab.PROFILES},
            "halves_standard": standard_by_half(corpus, scores),
        }

    published = anchors(args.data)
    print_tables(results, selection, published, args.quick)
    summary = {
        "benchmark": "anomaly_nab",
        "quick": args.quick,
        "files": len(corpus),
        "rows": rows,
        "windows": windows,
        "nab_standard": results["ensemble"]["standard"],
        "nab_reward_low_fp": results["ensemble"]["reward_low_FP_rate"],
        "nab_reward_low_fn": results["ensemble"]["reward_low_FN_rate"],
        "ensemble": results["ensemble"],
        "detectors": {
            **{k: v for k, v in results.items() if k != "ensemble"},
            **{name: {"skipped": reason} for name, reason in skipped.items()},
        },
        "selection": selection,
        "anchors": published,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary))


def deep_skipped(registered: list[str], quick: bool, deep: bool) -> dict[str, str]:
    """The deep detectors that will not be scored in this run, and why."""
    out: dict[str, str] = {}
    for name in DEEP_DETECTORS:
        if name not in registered:
            out[name] = "needs the optional 'deep' extra (PyTorch), which is not installed"
        elif quick and not deep:
            out[name] = "deep detectors are not run under --quick (minutes of CPU); add --deep"
    return out


def print_tables(
    results: dict[str, dict[str, Any]],
    selection: dict[str, dict[str, Any]],
    published: dict[str, dict[str, float]],
    quick: bool,
) -> None:
    profiles = list(nab.PROFILES)
    head = f"{'detector':<36}{'standard':>10}{'low FP':>8}{'low FN':>8}"
    print(f"\n{head}{'P':>7}{'R':>7}{'FP/1k':>7}{'A':>7}{'B':>7}")
    for name, r in results.items():
        s, fp, fn = (r[p] for p in profiles)
        halves = r["halves_standard"]
        print(
            f"{name:<36}{s:>10.1f}{fp:>8.1f}{fn:>8.1f}{r['precision']:>7.2f}{r['recall']:>7.2f}"
            f"{r['false_alarms_per_1k_rows']:>7.2f}{halves.get('A', 0):>7.1f}"
            f"{halves.get('B', 0):>7.1f}"
        )
    print("\nselection of the default ensemble (standard score; A = tuning half, B = other)")
    for label, r in selection.items():
        halves = r["halves_standard"]
        print(
            f"  {label:<34}{r['standard']:>10.1f}{r['reward_low_FP_rate']:>8.1f}"
            f"{r['reward_low_FN_rate']:>8.1f}      A {halves.get('A', 0):.1f}"
            f"  B {halves.get('B', 0):.1f}"
        )
    if published:
        note = " (other files: not comparable with --quick)" if quick else ""
        print(f"\npublished scores on these data{note}")
        print(f"  {'detector':<34}{'standard':>8}{'low FP':>8}{'low FN':>8}")
        for name, r in sorted(published.items(), key=lambda kv: -kv[1].get("standard", 0)):
            cells = "".join(f"{r.get(p, float('nan')):>8.1f}" for p in profiles)
            print(f"  {name:<34}{cells}")
    print()


if __name__ == "__main__":
    main()
