"""A context detector: has this series ever moved like this before?

The magnitude detectors (the seasonal baseline, the forest) ask how far a value is from
the usual; on bursty count series every burst is far, so they alarm on bursts that
happen every few days. This detector asks a different question: whether the series has
ever gone from its last few levels to this one. A burst like earlier bursts is a known
sequence and scores low; a move the series has never made scores high.

Values are quantised into ``levels`` equal bins spanning the range seen so far (widened
by ``margin`` so that it is not outgrown at every new high). For each order ``k`` from 1
to ``order``, the detector remembers which levels have followed each run of ``k``
levels. A row's raw score is, averaged over the orders, the distance from its level to
the nearest level that ever followed its context (``levels`` when the context itself is
new, or when the row is beyond the grid), divided by ``levels``: 0 for a known move, up
to 1 for a new extreme or a move after a context never seen. :class:`.TailCalibrator`
turns it into a probability.

A value outside the grid rebuilds it: the new range is taken over the remembered rows
(the last ``history``), and what followed what is learned again on the new grid, so the
memory always speaks of the range as now known (what a detector told the series' range
in advance would see). The row that outgrew the grid is scored on the old one first, so
a new extreme is a new level, never seen. The grid is also rebuilt every ``history``
rows, so that a long-lived series forgets ranges and moves that have left its window.

Cold start: nothing is scored before ``warmup`` rows (the first grid is laid over them),
then the calibrator's own warm-up. The state is numbers and two arrays (what followed
each context, the remembered values), so it pickles and stays out of the cyclic garbage
collector's way.
"""

from __future__ import annotations

import math
from array import array

import numpy as np

from analytics_hub.analytics.anomaly.base import UnivariateDetector
from analytics_hub.analytics.anomaly.calibrate import TailCalibrator

#: the most contexts a detector may track (levels and order give the count)
MAX_CONTEXTS = 1 << 20
#: the numpy view of each array typecode the followers may use
_DTYPES = {"H": np.uint16, "I": np.uint32, "Q": np.uint64}


class ContextDetector(UnivariateDetector):
    """Scores how new a row's move is: its level after the last ``order`` levels."""

    name = "context"

    def __init__(
        self,
        *,
        levels: int = 8,
        order: int = 4,
        margin: float = 0.5,
        warmup: int = 150,
        history: int = 10_080,
        calibrator: TailCalibrator | None = None,
    ) -> None:
        super().__init__()
        if not 2 <= levels <= 60 or order < 1:
            raise ValueError("levels must be between 2 and 60, order at least 1")
        base = levels + 2  # levels run from -1 (below the grid) to ``levels`` (above)
        offsets = [0]
        for k in range(1, order + 1):
            offsets.append(offsets[-1] + base**k)
        if offsets[-1] > MAX_CONTEXTS:
            raise ValueError(
                f"{levels} levels at order {order} make {offsets[-1]:,} contexts; "
                f"at most {MAX_CONTEXTS:,}: lower one of them"
            )
        if margin < 0 or not 2 <= warmup <= history:
            raise ValueError("need margin >= 0 and 2 <= warmup <= history")
        self.levels = levels
        self.order = order
        self.margin = margin
        self.warmup = warmup
        self.history = history
        self.calibrator = calibrator or TailCalibrator()
        self._base = base
        self._offsets = offsets[:-1]  # where order k's contexts start: offsets[k - 1]
        # context -> bit mask of the levels that followed it (bit ``level + 1``): an
        # array of the narrowest ints that hold ``levels + 2`` bits, not a dict; 22 KB
        # at the defaults, whatever the series does
        self._typecode = "H" if base <= 16 else "I" if base <= 32 else "Q"
        self._followers = array(self._typecode, [0]) * offsets[-1]
        self._values = array("d")  # the last ``history`` values; a ring once full
        self._oldest = 0
        self._rows = 0
        self._since_grid = 0
        self._grids = 0
        self._phase = 0  # the first grid counts as laid this many rows ago (stagger)
        self._lo = 0.0
        self._width = 0.0  # 0 until the first grid
        self._recent: list[int] = []  # the last ``order`` levels, oldest first

    def stagger(self, phase: int) -> None:
        """Spread the periodic re-grids and the calibration's refits of detectors started
        together over rows of their own (see :class:`.base.Refitting`)."""
        if self._rows:
            raise ValueError("stagger a detector before its first row")
        self._phase = phase % self.history
        self.calibrator.stagger(phase)

    @property
    def grids(self) -> int:
        """How many times the grid has been laid (for tests and diagnostics)."""
        return self._grids

    def _score_value(self, timestamp: float, value: float) -> float:
        self._remember(value)
        self._rows += 1
        if self._width == 0.0:
            if self._rows >= self.warmup:
                self._regrid()
            return 0.0
        level = self._level(value)
        raw = self._learn(level)
        self._since_grid += 1
        if not 0 <= level < self.levels or self._since_grid >= self.history:
            self._regrid()
        return self.calibrator.update(raw)

    def _level(self, value: float) -> int:
        # one level either side of the grid: values beyond it are all "new extreme"
        return max(-1, min(self.levels, math.floor((value - self._lo) / self._width)))

    def _learn(self, level: int) -> float:
        """The raw score of ``level`` after the recent levels; then remember the move."""
        recent = self._recent
        followers = self._followers
        bit = level + 1
        code, total = 0, 0
        for k in range(1, len(recent) + 1):
            code = code * self._base + recent[-k] + 1
            index = self._offsets[k - 1] + code
            seen = followers[index]
            total += _distance(seen, bit, self.levels)
            followers[index] = seen | (1 << bit)
        orders = len(recent)
        recent.append(level)
        if orders == self.order:
            del recent[0]
        return total / orders / self.levels if orders else 0.0

    def _remember(self, value: float) -> None:
        if len(self._values) < self.history:
            self._values.append(value)
        else:
            self._values[self._oldest] = value
            self._oldest = (self._oldest + 1) % self.history

    def _regrid(self) -> None:
        """Lay the grid over the remembered rows and learn their moves again on it.

        The same as feeding them one by one to :meth:`_learn` on a fresh memory, in
        numpy: 0.4 ms for a week of minutes (10,080 rows), where the loop would take
        tens of milliseconds.
        """
        stored = np.frombuffer(self._values, dtype=np.float64)
        past = np.concatenate((stored[self._oldest :], stored[: self._oldest]))
        lo, hi = float(past.min()), float(past.max())
        span = hi - lo
        if span <= 0.0:  # a flat history: a grid around its value
            span = abs(hi) or 1.0
        self._lo = lo - self.margin * span / 2
        self._width = span * (1.0 + self.margin) / self.levels
        levels = np.clip(np.floor((past - self._lo) / self._width), -1, self.levels)
        digits = levels.astype(np.int64) + 1
        table = np.frombuffer(self._followers, dtype=_DTYPES[self._typecode])
        table[:] = 0
        n = digits.size
        code = np.zeros(n, dtype=np.int64)
        for k in range(1, min(self.order, n - 1) + 1):
            # code[t] for order k: the k levels before row t, the latest most significant
            code[k:] = code[k:] * self._base + digits[: n - k]
            bits = (1 << digits[k:]).astype(table.dtype)
            np.bitwise_or.at(table, self._offsets[k - 1] + code[k:], bits)
        self._recent = [int(d) - 1 for d in digits[-self.order :]]
        self._since_grid = self._phase if self._grids == 0 else 0
        self._grids += 1


def _distance(seen: int, bit: int, levels: int) -> int:
    """How many levels from ``bit`` the nearest set bit of ``seen`` is; ``levels`` if none.

    A level beyond the grid (bit 0 or ``levels + 1``) is a new extreme: unless that
    context has gone beyond the grid before, it is as far as a move can be, however near
    the grid's edge the series was.
    """
    if (seen >> bit) & 1:
        return 0
    if not seen or bit == 0 or bit == levels + 1:
        return levels
    for d in range(1, levels):
        if (seen >> (bit + d)) & 1 or (bit >= d and (seen >> (bit - d)) & 1):
            return d
    return levels


__all__ = ["MAX_CONTEXTS", "ContextDetector"]
