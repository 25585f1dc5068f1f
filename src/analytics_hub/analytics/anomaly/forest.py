"""Isolation Forest over short windows of one or several metrics.

Each row becomes a feature vector built from itself and the ``window`` rows before it,
per metric: the value, its change from the previous row, its distance from the window's
median, and the window's standard deviation (which moves when the series gets noisier or
flatter). Rows that a forest trained on the recent past isolates in few splits are
unusual *as a combination*: a rollup row whose latency, error rate, tokens, cost and
request count are each plausible but not together scores high.

The forest (scikit-learn, fixed seed) is refitted every ``refit_every`` rows on the
features of the last ``train_rows`` rows, and only rows after a fit are scored with it:
no row is ever scored by a model that saw it. Raw scores are sklearn's anomaly score
(``-score_samples``, in (0, 1]) calibrated per series by :class:`.TailCalibrator`.

:meth:`ForestDetector.score_many` scores all rows between two refits in one call, which
is what makes the benchmark affordable; it returns exactly what :meth:`update` would.

A forest's splits lie inside its training range, so a row far beyond that range is
isolated no faster than the most extreme training row: a 10-sigma error rate would score
like the worst minute of the training window. With ``extrapolate`` (the default) the raw
score also counts how far the row lies outside the training range, in interquartile
spreads, so such rows rank first. In the default ensemble the seasonal baseline already
scores magnitudes, and the forest runs without it to contribute shape alone (measured on
NAB; see docs/decisions/0008-anomaly-ensemble.md).

Cold start: nothing is scored before the first fit, after ``min_train_rows`` rows.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike
from sklearn.ensemble import IsolationForest

from analytics_hub.analytics.anomaly.base import FloatArray, StreamingDetector, as_batch
from analytics_hub.analytics.anomaly.calibrate import TailCalibrator


def window_features(windows: FloatArray) -> FloatArray:
    """Features of rows from their windows, shaped ``(rows, window + 1, metrics)``.

    The last entry of each window is the row itself. Returns ``(rows, 4 * metrics)``.
    """
    w = np.ascontiguousarray(windows, dtype=np.float64)
    current = w[:, -1, :]
    previous = w[:, -2, :]
    centre = np.median(w[:, :-1, :], axis=1)
    spread = np.std(w, axis=1)
    feats: FloatArray = np.concatenate(
        (current, current - previous, current - centre, spread), axis=1
    )
    return feats


class ForestDetector(StreamingDetector):
    """Scores rows (one or several metrics) with an Isolation Forest of the recent past."""

    name = "forest"

    def __init__(
        self,
        *,
        window: int = 12,
        train_rows: int = 2000,
        min_train_rows: int = 500,
        refit_every: int = 1000,
        trees: int = 50,
        seed: int = 0,
        extrapolate: bool = True,
        calibrator: TailCalibrator | None = None,
    ) -> None:
        super().__init__()
        if window < 2 or min_train_rows < 2 or train_rows < min_train_rows or refit_every < 1:
            raise ValueError("window >= 2, 2 <= min_train_rows <= train_rows, refit_every >= 1")
        self.window = window
        self.train_rows = train_rows
        self.min_train_rows = min_train_rows
        self.refit_every = refit_every
        self.trees = trees
        self.seed = seed
        self.extrapolate = extrapolate
        self.calibrator = calibrator or TailCalibrator()
        self._recent: deque[FloatArray] = deque(maxlen=window)  # rows before the current
        self._train: deque[FloatArray] = deque(maxlen=train_rows)  # their features
        self._model: IsolationForest | None = None
        self._low = np.zeros(0)
        self._high = np.zeros(0)
        self._spread = np.zeros(0)
        self._since_fit = 0

    def _windows(self, rows: FloatArray) -> FloatArray | None:
        """Windows ending at each of ``rows``, using the remembered rows before them."""
        if len(self._recent) < self.window:
            return None
        history = np.concatenate((np.array(self._recent), rows))
        views = sliding_window_view(history, (self.window + 1, rows.shape[1]))
        out: FloatArray = views[:, 0, :, :]
        return out

    def _score(self, timestamp: float, row: FloatArray) -> float:
        return float(self._score_block(row.reshape(1, -1))[0])

    def score_many(self, timestamps: ArrayLike, values: ArrayLike) -> FloatArray:
        """Score rows in time order, a refit block at a time (same as :meth:`update`)."""
        ts, vals = as_batch(timestamps, values)
        out = np.zeros(ts.size)
        i = 0
        while i < ts.size:
            # the first rows only fill the window; the others go up to the next refit
            filling = len(self._recent) < self.window
            take = min(1 if filling else max(1, self._next_fit_in()), ts.size - i)
            for t, v in zip(ts[i : i + take], vals[i : i + take], strict=True):
                self._check(float(t), v)
            out[i : i + take] = self._score_block(vals[i : i + take])
            i += take
        return out

    def _next_fit_in(self) -> int:
        if self._model is None:
            return self.min_train_rows - len(self._train)
        return self.refit_every - self._since_fit

    def _score_block(self, rows: FloatArray) -> FloatArray:
        """Score rows that all come before the next refit, then learn from them."""
        out = np.zeros(rows.shape[0])
        windows = self._windows(rows)
        if windows is not None:
            feats = window_features(windows)
            if self._model is not None:
                out = self.calibrator.update_many(self._raw(feats))
            self._train.extend(feats)
            self._since_fit += rows.shape[0]
            if self._next_fit_in() <= 0:
                self._fit()
        self._recent.extend(rows)
        return out

    def _raw(self, feats: FloatArray) -> FloatArray:
        assert self._model is not None
        isolation: FloatArray = -self._model.score_samples(feats)
        if not self.extrapolate:
            return isolation
        # how far outside the training range, in interquartile spreads (see module doc)
        beyond = np.maximum(feats - self._high, self._low - feats) / self._spread
        out: FloatArray = isolation + np.maximum(beyond, 0.0).max(axis=1)
        return out

    def _fit(self) -> None:
        train = np.array(self._train)
        # the same sample size for every fit keeps raw scores comparable across refits
        # (sklearn normalises path lengths by the sample size)
        samples = min(256, self.min_train_rows)
        model = IsolationForest(
            n_estimators=self.trees, max_samples=samples, random_state=self.seed
        )
        self._model = model.fit(train)
        self._low = train.min(axis=0)
        self._high = train.max(axis=0)
        q25, q75 = np.percentile(train, [25.0, 75.0], axis=0)
        scale = np.maximum(q75 - q25, 1e-3 * np.abs(np.median(train, axis=0)))
        self._spread = np.maximum(scale, 1e-9)
        self._since_fit = 0


__all__ = ["ForestDetector", "window_features"]
