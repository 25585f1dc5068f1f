"""Raw anomaly statistics -> calibrated probabilities, per series.

A detector's raw statistic (a robust z-score, a CUSUM sum, an isolation depth) means
different things on different series: a z of 8 is routine for bursty tweet counts and
unheard of for a smooth CPU curve. :class:`TailCalibrator` turns it into
``1 - P(raw >= r)`` under the series' own history of raw scores, so one threshold fits
every series and the detectors' outputs become comparable (and can be voted on).

The tail probability is the empirical one while at least ``min_count`` past scores reach
``r``; beyond that the history cannot say how rare ``r`` is, so the tail above the
``tail_quantile`` of the history is modelled as exponential (the mean excess over that
quantile is its scale). Measured on NAB, this beat a generalised Pareto tail, a Pareto
tail on log scores and a Gaussian one.

The reference distribution is refitted every ``refit_every`` scores from the last
``history`` raw scores; scores in between use the previous fit, which keeps the cost per
row at one binary search and lets :meth:`TailCalibrator.update_many` score a whole block
at once with the same result.
"""

from __future__ import annotations

import numpy as np

from analytics_hub.analytics.anomaly.base import FloatArray


class TailCalibrator:
    """Maps raw scores to ``1 - tail probability`` under the series' own past scores."""

    def __init__(
        self,
        *,
        warmup: int = 100,
        history: int = 20_000,
        refit_every: int = 20,
        tail_quantile: float = 0.9,
        min_count: int = 5,
    ) -> None:
        if warmup < min_count or history < warmup or refit_every < 1:
            raise ValueError("need min_count <= warmup <= history and refit_every >= 1")
        if not 0.0 < tail_quantile < 1.0:
            raise ValueError("tail_quantile must be in (0, 1)")
        self.warmup = warmup
        self.history = history
        self.refit_every = refit_every
        self.tail_quantile = tail_quantile
        self.min_count = min_count
        self._buf = np.zeros(history)
        self._count = 0  # scores stored so far (the buffer holds the last ``history``)
        self._since_fit = 0
        self._sorted: FloatArray | None = None
        self._u = 0.0
        self._beta = 1.0
        self._zeta = 1.0

    @property
    def ready(self) -> bool:
        """Whether enough raw scores have been seen to calibrate."""
        return self._sorted is not None

    def update(self, raw: float) -> float:
        """Calibrate ``raw`` against the past, then remember it. 0 before warm-up."""
        p = float(self._calibrate(np.array([raw]))[0]) if self._sorted is not None else 0.0
        self._push(np.array([raw]))
        return p

    def update_many(self, raws: FloatArray) -> FloatArray:
        """The same as :meth:`update` on each score in turn, a refit block at a time."""
        raws = np.asarray(raws, dtype=np.float64).reshape(-1)
        out = np.zeros(raws.size)
        i = 0
        while i < raws.size:
            if self._sorted is None:
                take = min(self.warmup - self._count, raws.size - i)
            else:
                take = min(self.refit_every - self._since_fit, raws.size - i)
                out[i : i + take] = self._calibrate(raws[i : i + take])
            self._push(raws[i : i + take])
            i += take
        return out

    def _calibrate(self, r: FloatArray) -> FloatArray:
        srt = self._sorted
        assert srt is not None
        m = srt.size
        at_least = m - np.searchsorted(srt, r, side="left")
        empirical = at_least / m
        model = self._zeta * np.exp(-np.maximum(r - self._u, 0.0) / self._beta)
        # beyond the last few observed scores the empirical tail says little (0, 1/m, ...):
        # use the exponential model there, capped by what the data did show
        tail = np.where(
            at_least >= self.min_count, empirical, np.minimum(model, self.min_count / m)
        )
        out: FloatArray = 1.0 - tail
        return out

    def _push(self, raws: FloatArray) -> None:
        for start in range(0, raws.size, self.history):
            chunk = raws[start : start + self.history]
            pos = self._count % self.history
            first = min(chunk.size, self.history - pos)
            self._buf[pos : pos + first] = chunk[:first]
            self._buf[: chunk.size - first] = chunk[first:]
            self._count += chunk.size
        self._since_fit += raws.size
        due = self._since_fit >= self.refit_every or self._sorted is None
        if self._count >= self.warmup and due:
            self._fit()

    def _fit(self) -> None:
        srt = np.sort(self._buf[: min(self._count, self.history)])
        m = srt.size
        qi = min(int(self.tail_quantile * m), m - 1)
        self._u = float(srt[qi])
        excess = float(srt[qi:].mean()) - self._u
        # a flat history has no excess: any larger score is then maximally surprising
        self._beta = excess if excess > 1e-12 else 1e-12
        self._zeta = (m - qi) / m
        self._sorted = srt
        self._since_fit = 0


def surprise(p: FloatArray) -> FloatArray:
    """``-log10(1 - p)``: calibrated probabilities as orders of magnitude of rarity."""
    out: FloatArray = -np.log10(np.maximum(1.0 - np.asarray(p, dtype=np.float64), 1e-300))
    return out


def from_surprise(s: FloatArray) -> FloatArray:
    """The inverse of :func:`surprise`."""
    out: FloatArray = 1.0 - np.power(10.0, -np.asarray(s, dtype=np.float64))
    return out


__all__ = ["TailCalibrator", "from_surprise", "surprise"]
