"""From calibrated probabilities to alarms: one alarm per incident, and a per-series level.

An incident (a burst, a shift settling in) keeps a detector's probability high for many
rows; alarming on every one of them floods the operator and, on NAB, costs a false
positive per row. :class:`AlarmGate` passes a row's probability only when it is higher
than every probability of the previous ``quiet_rows`` rows, and answers 0 otherwise. A
stronger row inside an incident still passes, so escalation is never hidden; a
sustained plateau alarms once.

:class:`AlarmPolicy` is the per-series threshold. Its ``offset`` is in orders of
magnitude of rarity: +1 alarms only on rows ten times rarer, -1 on rows ten times more
common, so feedback ("false positive" / "missed") can move it one step at a time and be
undone exactly.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from analytics_hub.analytics.anomaly.base import FloatArray

#: the alarm level of the default ensemble: its NAB standard-profile threshold, rounded
#: (see docs/decisions/0008-anomaly-ensemble.md)
DEFAULT_LEVEL = 0.988


class AlarmGate:
    """Passes a probability only if it beats the last ``quiet_rows`` ones; else 0."""

    def __init__(self, quiet_rows: int = 200) -> None:
        if quiet_rows < 1:
            raise ValueError("quiet_rows must be at least 1")
        self.quiet_rows = quiet_rows
        self._seen = 0  # probabilities gated so far
        # The window's running maxima, decreasing, and their positions: the first is the
        # window's maximum, so a row costs O(1) instead of a pass over the window. A
        # probability that a later, larger one follows can never be a window's maximum
        # again, so these are all the gate keeps (usually a handful: the garbage
        # collector has little to walk, and pairs would be objects for it to walk).
        self._peaks: deque[float] = deque()
        self._peak_at: deque[int] = deque()

    def update(self, p: float) -> float:
        """Gate one probability."""
        peaks, at = self._peaks, self._peak_at
        while at and at[0] < self._seen - self.quiet_rows:  # left the window
            at.popleft()
            peaks.popleft()
        passed = p if not peaks or p > peaks[0] else 0.0
        while peaks and peaks[-1] <= p:
            peaks.pop()
            at.pop()
        peaks.append(p)
        at.append(self._seen)
        self._seen += 1
        return passed

    def update_many(self, ps: FloatArray) -> FloatArray:
        """The same as :meth:`update` on each probability in turn."""
        ps = np.asarray(ps, dtype=np.float64).reshape(-1)
        if ps.size == 0:
            return np.zeros(0)
        # The past window, every row at its place: the running maxima where they were,
        # -inf elsewhere (and before the first row), which changes no window's maximum.
        quiet = self.quiet_rows
        past = np.full(quiet, -np.inf)
        start = self._seen - quiet
        for value, at in zip(self._peaks, self._peak_at, strict=True):
            if at >= start:
                past[at - start] = value
        seq = np.concatenate((past, ps))
        prior = sliding_window_view(seq[:-1], quiet).max(axis=1)
        # the running maxima of the new window (the last ``quiet`` rows)
        first = self._seen + ps.size - quiet
        self._seen += ps.size
        peaks, positions = self._peaks, self._peak_at
        peaks.clear()
        positions.clear()
        for i, q in enumerate(seq[-quiet:].tolist()):
            if q == -math.inf:
                continue
            while peaks and peaks[-1] <= q:
                peaks.pop()
                positions.pop()
            peaks.append(q)
            positions.append(first + i)
        out: FloatArray = np.where(ps > prior, ps, 0.0)
        return out


@dataclass(frozen=True)
class AlarmPolicy:
    """When a gated score is an alarm: ``score >= level``, moved by ``offset`` decades."""

    level: float = DEFAULT_LEVEL
    offset: float = 0.0

    @property
    def threshold(self) -> float:
        """The effective threshold on the gated score."""
        tail = max(1.0 - self.level, math.ulp(1.0)) * math.pow(10.0, -self.offset)
        return 1.0 - min(tail, 1.0)

    def is_alarm(self, score: float) -> bool:
        """Whether a gated score raises an alarm under this policy."""
        return score > 0.0 and score >= self.threshold

    def adjusted(self, steps: float) -> AlarmPolicy:
        """A policy ``steps`` decades stricter (negative: more sensitive)."""
        return replace(self, offset=self.offset + steps)


__all__ = ["DEFAULT_LEVEL", "AlarmGate", "AlarmPolicy"]
