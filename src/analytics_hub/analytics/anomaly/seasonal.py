"""A robust seasonal baseline: is this value outside what this time of day usually shows?

The day is cut into phase buckets of the series' sampling step. For each row the
*reference* is every remembered value of the ``neighbours`` buckets either side of the
row's bucket, over the last ``seasons`` periods. Because today's earlier buckets are part
of it, the reference holds both the usual values at this time of day and the last few
rows, so:

- a spike or a jump is outside the reference and scores at once;
- a recurring daily peak, even one that drifts by a few minutes, is inside it;
- after a level shift the new level enters the reference within ``neighbours`` rows, so
  the shift alarms at its start and not for the rest of the day.

The raw statistic is the distance from the value to the reference's range, divided by a
robust scale: the rolling median of ``|value - median(reference)|`` (a MAD around the
seasonal median). It is calibrated per series by :class:`.TailCalibrator`.

Values go through a signed square root first (``transform="sqrt"``): it stabilises the
variance of count-like metrics (requests, tokens, tweets), whose noise grows with their
level, and is scale-free (``sqrt(c x) = sqrt(c) sqrt(x)``).

Cold start: the sampling step is learned from the first ``step_rows`` rows (or given),
and scoring starts once a reference of ``2 * neighbours + 2`` values (about one period)
and ``min_scale_rows`` residuals exist, plus the calibrator's warm-up.
"""

from __future__ import annotations

import bisect
import math
from array import array
from statistics import median
from typing import Literal

import numpy as np

from analytics_hub.analytics.anomaly.base import UnivariateDetector
from analytics_hub.analytics.anomaly.calibrate import TailCalibrator

Transform = Literal["sqrt", "none"]


def signed_sqrt(value: float) -> float:
    """``sign(x) * sqrt(|x|)``: monotone, defined for negative values too."""
    return math.copysign(math.sqrt(abs(value)), value)


class RollingMedian:
    """The median of the last ``size`` numbers, in O(size) per update (a sorted list).

    The numbers are kept in ``array("d")`` buffers, not in a list and a deque: those would
    hold float objects that Python's cyclic garbage collector walks on every full
    collection, about 20,000 per series (five metrics), which made one full collection
    take a quarter of a second with 1,000 series in memory.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a rolling median needs a size of at least 1")
        self.size = size
        self._fifo = array("d")  # the last ``size`` numbers; a ring once full
        self._oldest = 0  # where the oldest number is, once the ring is full
        self._sorted = array("d")

    def __len__(self) -> int:
        return len(self._fifo)

    def push(self, value: float) -> None:
        """Add a number, dropping the oldest one past ``size``."""
        bisect.insort(self._sorted, value)
        if len(self._fifo) < self.size:
            self._fifo.append(value)
            return
        old = self._fifo[self._oldest]
        self._fifo[self._oldest] = value
        self._oldest = (self._oldest + 1) % self.size
        del self._sorted[bisect.bisect_left(self._sorted, old)]

    def median(self) -> float:
        """The (upper) median; 0 when empty."""
        return self._sorted[len(self._sorted) // 2] if self._sorted else 0.0


class SeasonalDetector(UnivariateDetector):
    """Flags values outside the usual range for their time of day and their recent past."""

    name = "seasonal"

    def __init__(
        self,
        *,
        period_s: float = 86_400.0,
        seasons: int = 7,
        neighbours: int = 2,
        scale_rows: int = 2016,
        min_scale_rows: int = 50,
        step_s: float | None = None,
        step_rows: int = 12,
        transform: Transform = "sqrt",
        calibrator: TailCalibrator | None = None,
    ) -> None:
        super().__init__()
        if period_s <= 0 or seasons < 1 or neighbours < 0 or step_rows < 2:
            raise ValueError("period_s > 0, seasons >= 1, neighbours >= 0, step_rows >= 2")
        self.period_s = period_s
        self.seasons = seasons
        self.neighbours = neighbours
        self.min_scale_rows = min_scale_rows
        self.step_rows = step_rows
        self.transform: Transform = transform
        self.calibrator = calibrator or TailCalibrator()
        self._step = step_s
        self._pending: list[tuple[float, float]] = []  # rows seen before the step is known
        # The last ``seasons`` values of every phase bucket, as one ring buffer per bucket
        # (row): 1,440 buckets of minutes take 80 KB here, ten times less than deques.
        self._past = np.zeros((0, seasons))
        self._filled = np.zeros(0, dtype=np.int64)  # values held per bucket
        self._n_buckets = 1
        self._scale = RollingMedian(scale_rows)
        # the reference expected_range built for a row, for that row's update to reuse
        self._asked: tuple[float, list[float] | None] | None = None
        if step_s is not None:
            self._set_step(step_s)

    def stagger(self, phase: int) -> None:
        """Refit the calibration on rows of its own (see :class:`.base.Refitting`)."""
        self.calibrator.stagger(phase)

    def _set_step(self, step: float) -> None:
        self._step = step
        self._n_buckets = max(1, round(self.period_s / step))
        self._past = np.zeros((self._n_buckets, self.seasons))
        self._filled = np.zeros(self._n_buckets, dtype=np.int64)

    def _bucket(self, timestamp: float) -> int:
        assert self._step is not None
        return round((timestamp % self.period_s) / self._step) % self._n_buckets

    def _score_value(self, timestamp: float, value: float) -> float:
        x = signed_sqrt(value) if self.transform == "sqrt" else value
        if self._step is None:
            # the step is learned from the first rows; they are scored 0 and remembered
            self._pending.append((timestamp, x))
            if len(self._pending) < self.step_rows:
                return 0.0
            pairs = zip(self._pending, self._pending[1:], strict=False)
            gaps = [b[0] - a[0] for a, b in pairs if b[0] > a[0]]
            if len(gaps) < self.step_rows - 1:
                return 0.0  # repeated timestamps: wait for enough distinct ones
            self._set_step(median(gaps))
            for ts, v in self._pending:
                self._remember(ts, v)
            self._pending.clear()
            return 0.0
        raw = self._raw(timestamp, x)
        self._remember(timestamp, x)
        return 0.0 if raw is None else self.calibrator.update(raw)

    def _reference(self, timestamp: float) -> list[float] | None:
        """The sorted reference of a row at ``timestamp``; None before a baseline."""
        b = self._bucket(timestamp)
        reference: list[float] = []
        for k in range(b - self.neighbours, b + self.neighbours + 1):
            row = k % self._n_buckets
            filled = int(self._filled[row])
            if filled:
                reference.extend(self._past[row, :filled].tolist())
        if len(reference) < 2 * self.neighbours + 2:
            return None  # less than about one period of history: no baseline yet
        reference.sort()
        return reference

    def expected_range(self, timestamp: float) -> tuple[float, float] | None:
        """The range of values a row at ``timestamp`` would be scored 0 in (the span of
        its reference), in the series' own units; None before a baseline. Reads state
        only: call it before :meth:`update` of that row."""
        if self._step is None:
            return None
        reference = self._reference(timestamp)
        self._asked = (timestamp, reference)
        if reference is None:
            return None
        lo, hi = reference[0], reference[-1]
        if self.transform == "sqrt":  # undo the signed square root
            return math.copysign(lo * lo, lo), math.copysign(hi * hi, hi)
        return lo, hi

    def _raw(self, timestamp: float, x: float) -> float | None:
        asked: tuple[float, list[float] | None] | None = getattr(self, "_asked", None)
        self._asked = None  # (getattr: state pickled before it existed)
        reference = asked[1] if asked and asked[0] == timestamp else self._reference(timestamp)
        if reference is None:
            return None
        lo, hi = reference[0], reference[-1]
        centre = reference[len(reference) // 2]
        ready = len(self._scale) >= self.min_scale_rows
        scale = self._scale.median()
        self._scale.push(abs(x - centre))
        if not ready:
            return None
        outside = max(0.0, x - hi, lo - x)
        # a flat series has no spread: measure departures from it against its level
        floor = max(1e-3 * abs(centre), 1e-9)
        return outside / max(scale, floor)

    def _remember(self, timestamp: float, x: float) -> None:
        b = self._bucket(timestamp)
        filled = int(self._filled[b])
        if filled < self.seasons:
            self._past[b, filled] = x
            self._filled[b] = filled + 1
        else:  # full: the oldest value goes (the order within a bucket does not matter)
            self._past[b, :-1] = self._past[b, 1:]
            self._past[b, -1] = x


__all__ = ["RollingMedian", "SeasonalDetector", "signed_sqrt"]
