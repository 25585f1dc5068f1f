"""The Numenta Anomaly Benchmark's scoring method, and the simpler window-level counts.

NAB gives every labelled anomaly a window; a detector's score over a corpus is:

- inside a window, only the earliest detection counts and earns
  ``A_TP * sigma(y) / sigma(-1)`` with ``y = -(right - i + 1) / width`` (``-1`` at the
  window's first row, ``-1 / width`` at its last), so earlier is better;
- a window without a detection costs ``A_FN``;
- every detection outside a window costs ``A_FP * sigma(y)`` (``sigma`` is negative there),
  ``y = (i - right) / (width - 1)`` measured from the end of the preceding window; with
  no window before it the cost is the full ``A_FP``;
- the first 15 % of each file (at most 750 rows) is a probationary period: its rows are
  neither detections nor false positives;
- ``sigma(y) = 2 / (1 + exp(5 y)) - 1``, and ``-1`` once ``y > 3``.

One threshold per detector and profile turns scores into detections; it is chosen to
maximise the sum over the corpus and the sum is normalised as
``100 * (S - S_null) / (S_perfect - S_null)`` where the null detector never fires
(``S_null = -A_FN * windows``) and the perfect one fires on the first row of every window
(``S_perfect = A_TP * windows``).

The sweep over thresholds is vectorised: rows are sorted by score once and the score at
every distinct threshold comes out of one cumulative sum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analytics_hub.errors import ValidationError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

PROBATION_FRACTION = 0.15
PROBATION_CAP_ROWS = 750  # 15 % of NAB's 5,000-row reference length


@dataclass(frozen=True)
class Profile:
    """The weights of one NAB application profile."""

    name: str
    a_tp: float
    a_fp: float
    a_fn: float


PROFILES: dict[str, Profile] = {
    "standard": Profile("standard", 1.0, 0.11, 1.0),
    "reward_low_FP_rate": Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    "reward_low_FN_rate": Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
}


def probation_rows(n_rows: int) -> int:
    """The number of leading rows of a file that NAB does not score."""
    return int(min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_CAP_ROWS))


def scaled_sigmoid(y: FloatArray) -> FloatArray:
    """NAB's scaled sigmoid ``2 / (1 + exp(5 y)) - 1``, clamped to ``-1`` beyond ``y = 3``."""
    # exp overflows for large y; those rows are past 3 and clamped anyway
    safe = np.minimum(y, 3.0)
    out: FloatArray = 2.0 / (1.0 + np.exp(5.0 * safe)) - 1.0
    return np.where(y > 3.0, -1.0, out)


_MAX_TP = float(scaled_sigmoid(np.array([-1.0]))[0])


@dataclass(frozen=True)
class LabelledFile:
    """The scoring layout of one data file.

    ``window`` holds, per row, the index of its (merged) window or ``-1``; ``unit`` holds
    the row's weight as a detection before the profile's factor: the true-positive gain
    ``sigma(y) / sigma(-1)`` inside a window, the (negative) ``sigma(y)`` outside.
    """

    name: str
    n_rows: int
    probation: int
    spans: tuple[tuple[int, int], ...]
    window: IntArray
    unit: FloatArray

    @property
    def scored_windows(self) -> int:
        """Windows with at least one row after the probationary period."""
        return sum(1 for _, end in self.spans if end >= self.probation)


def label_file(
    name: str, timestamps: NDArray[np.int64], windows: Sequence[tuple[int, int]]
) -> LabelledFile:
    """Lay out one file for scoring.

    ``timestamps`` are the rows' times (any integer unit, increasing) and ``windows`` the
    labelled windows as inclusive ``(start, end)`` times in the same unit. Windows are
    mapped to the rows they cover; overlapping windows are merged as NAB does.
    """
    ts = np.asarray(timestamps, dtype=np.int64)
    n = int(ts.size)
    if n == 0:
        raise ValidationError(f"{name}: a file to score needs at least one row")
    if n > 1 and bool(np.any(np.diff(ts) < 0)):
        raise ValidationError(f"{name}: timestamps must not go backwards")
    spans: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        lo = int(np.searchsorted(ts, start, side="left"))
        hi = int(np.searchsorted(ts, end, side="right")) - 1
        if lo > hi:
            continue  # the window covers no row of this file
        if spans and lo <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(hi, spans[-1][1]))
        else:
            spans.append((lo, hi))
    window = np.full(n, -1, dtype=np.int64)
    unit = np.full(n, -1.0)  # before any window a false positive costs the full A_FP
    rows = np.arange(n, dtype=np.float64)
    for k, (lo, hi) in enumerate(spans):
        width = float(hi - lo + 1)
        window[lo : hi + 1] = k
        unit[lo : hi + 1] = scaled_sigmoid(-(hi - rows[lo : hi + 1] + 1.0) / width) / _MAX_TP
        after_end = spans[k + 1][0] if k + 1 < len(spans) else n
        if after_end > hi + 1:
            # a one-row window has no width to measure by; NAB divides by width - 1
            past = (rows[hi + 1 : after_end] - hi) / max(width - 1.0, 1e-9)
            unit[hi + 1 : after_end] = scaled_sigmoid(past)
    return LabelledFile(name, n, probation_rows(n), tuple(spans), window, unit)


@dataclass(frozen=True)
class Sweep:
    """The best threshold of one detector under one profile, and its corpus score."""

    profile: str
    threshold: float
    raw: float
    null: float
    perfect: float

    @property
    def normalised(self) -> float:
        """``100 * (S - S_null) / (S_perfect - S_null)``; 0 when there is no window."""
        span = self.perfect - self.null
        return 100.0 * (self.raw - self.null) / span if span > 0 else 0.0


def _check(files: Sequence[LabelledFile], scores: Sequence[FloatArray]) -> None:
    if len(files) != len(scores):
        raise ValidationError("one score array is needed per file")
    for f, s in zip(files, scores, strict=True):
        if s.shape != (f.n_rows,):
            raise ValidationError(f"{f.name}: {s.shape[0]} scores for {f.n_rows} rows")
        if not bool(np.all(np.isfinite(s))):
            raise ValidationError(f"{f.name}: anomaly scores must be finite")


def sweep(files: Sequence[LabelledFile], scores: Sequence[FloatArray], profile: Profile) -> Sweep:
    """Choose the threshold that maximises the corpus score (a row fires if score >= it)."""
    _check(files, scores)
    parts_s: list[FloatArray] = []
    parts_w: list[IntArray] = []
    parts_u: list[FloatArray] = []
    offset = 0
    n_windows = 0
    for f, s in zip(files, scores, strict=True):
        p = f.probation
        w = f.window[p:].copy()
        # window ids must be unique over the corpus: shift them by the windows seen so far
        w[w >= 0] += offset
        offset += len(f.spans)
        n_windows += f.scored_windows
        parts_s.append(np.asarray(s[p:], dtype=np.float64))
        parts_w.append(w)
        parts_u.append(f.unit[p:])
    null = -profile.a_fn * n_windows
    perfect = profile.a_tp * n_windows
    s_all = np.concatenate(parts_s) if parts_s else np.zeros(0)
    if s_all.size == 0:
        return Sweep(profile.name, math.inf, null, null, perfect)
    w_all = np.concatenate(parts_w)
    u_all = np.concatenate(parts_u)

    order = np.argsort(-s_all, kind="stable")
    s_sorted = s_all[order]
    w_sorted = w_all[order]
    delta = np.where(w_sorted < 0, profile.a_fp * u_all[order], 0.0)

    # Inside a window only the best (= earliest) detection counts. Walking down the
    # thresholds, a window row adds how much it raises its window's running best, which
    # starts at -A_FN (missed). Group the window rows by window, keeping sweep order, and
    # take a running max per group; the offset keeps groups from seeing each other.
    in_win = np.flatnonzero(w_sorted >= 0)
    if in_win.size:
        groups = w_sorted[in_win]
        perm = np.argsort(groups, kind="stable")
        g = groups[perm]
        v = profile.a_tp * u_all[order][in_win][perm]
        step = profile.a_tp + profile.a_fn + 1.0
        run = np.maximum.accumulate(v + g * step) - g * step
        first = np.ones(g.size, dtype=bool)
        first[1:] = g[1:] != g[:-1]
        prev = np.empty_like(run)
        prev[0] = -profile.a_fn
        prev[1:] = run[:-1]
        prev[first] = -profile.a_fn
        gain = np.maximum(run - prev, 0.0)
        delta[in_win[perm]] = gain

    totals = null + np.cumsum(delta)
    # a threshold equal to a score fires every row with that score: read the total at
    # the last row of each run of equal scores
    ends = np.flatnonzero(np.append(s_sorted[1:] != s_sorted[:-1], True))
    candidates = np.concatenate(([null], totals[ends]))
    thresholds = np.concatenate(([math.inf], s_sorted[ends]))
    # np.argmax takes the first best, i.e. the highest threshold among equals, as NAB does
    best = int(np.argmax(candidates))
    return Sweep(profile.name, float(thresholds[best]), float(candidates[best]), null, perfect)


@dataclass(frozen=True)
class FileScore:
    """One file's NAB score at a fixed threshold, with its counts."""

    raw: float
    detected: int
    missed: int
    false_positives: int


def score_file(
    f: LabelledFile, scores: FloatArray, threshold: float, profile: Profile
) -> FileScore:
    """Score one file at ``threshold``: a direct, row-by-window reading of NAB's rules."""
    _check([f], [scores])
    fired = np.flatnonzero(scores >= threshold)
    fired = fired[fired >= f.probation]
    raw = 0.0
    detected = missed = 0
    for lo, hi in f.spans:
        if hi < f.probation:
            continue
        hits = fired[(fired >= lo) & (fired <= hi)]
        if hits.size:
            detected += 1
            raw += profile.a_tp * float(f.unit[hits[0]])
        else:
            missed += 1
            raw -= profile.a_fn
    outside = fired[f.window[fired] < 0]
    raw += profile.a_fp * float(f.unit[outside].sum())
    return FileScore(raw, detected, missed, int(outside.size))


@dataclass(frozen=True)
class WindowCounts:
    """Window-level counts: alarm events are runs of consecutive firing rows."""

    windows: int = 0
    detected: int = 0
    alarm_events: int = 0
    false_alarm_events: int = 0
    normal_rows: int = 0

    def __add__(self, other: WindowCounts) -> WindowCounts:
        return WindowCounts(
            self.windows + other.windows,
            self.detected + other.detected,
            self.alarm_events + other.alarm_events,
            self.false_alarm_events + other.false_alarm_events,
            self.normal_rows + other.normal_rows,
        )

    @property
    def recall(self) -> float:
        """Detected windows / windows (0 without windows)."""
        return self.detected / self.windows if self.windows else 0.0

    @property
    def precision(self) -> float:
        """Alarm events that start inside a window / all alarm events (1 without alarms)."""
        if not self.alarm_events:
            return 1.0
        return (self.alarm_events - self.false_alarm_events) / self.alarm_events

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    @property
    def false_alarms_per_1k_rows(self) -> float:
        """False alarm events per 1,000 scored rows outside windows."""
        return 1000.0 * self.false_alarm_events / self.normal_rows if self.normal_rows else 0.0


def window_counts(f: LabelledFile, scores: FloatArray, threshold: float) -> WindowCounts:
    """Count detected windows and alarm events of one file, ignoring probationary rows."""
    _check([f], [scores])
    p = f.probation
    fired = scores[p:] >= threshold
    win = f.window[p:]
    starts = np.flatnonzero(fired & ~np.concatenate(([False], fired[:-1])))
    false_alarms = int(np.count_nonzero(win[starts] < 0))
    detected = len(np.unique(win[fired & (win >= 0)]))
    return WindowCounts(
        windows=f.scored_windows,
        detected=detected,
        alarm_events=int(starts.size),
        false_alarm_events=false_alarms,
        normal_rows=int(np.count_nonzero(win < 0)),
    )


__all__ = [
    "PROFILES",
    "FileScore",
    "LabelledFile",
    "Profile",
    "Sweep",
    "WindowCounts",
    "label_file",
    "probation_rows",
    "scaled_sigmoid",
    "score_file",
    "sweep",
    "window_counts",
]
