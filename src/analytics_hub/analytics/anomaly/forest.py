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

Cold start: nothing is scored before the first fit, after ``min_train_rows`` rows (plus
the detector's :meth:`~ForestDetector.stagger` phase, which spreads the refits of many
series' detectors over different rows).

Scoring one row through ``IsolationForest.score_samples`` costs about 5 ms, nearly all of
it joblib dispatching one task per tree; a streaming scorer updates one row per series per
minute, so :meth:`ForestDetector.update` walks the fitted trees itself, all trees at once
in numpy, with sklearn's decisions and its order of additions, which gives the same
numbers bit for bit in about 0.1 ms. Batches still go through sklearn.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from analytics_hub.analytics.anomaly.base import FloatArray, StreamingDetector, as_batch
from analytics_hub.analytics.anomaly.calibrate import TailCalibrator

if TYPE_CHECKING:  # scikit-learn loads at the first fit, not when the hub starts
    from sklearn.ensemble import IsolationForest

#: blocks up to this many rows are scored by walking the trees directly
DIRECT_ROWS = 8


class _TreeWalk:
    """A fitted forest's trees as one flat array of nodes, walked for all trees at once.

    The same decisions as sklearn's ``Tree.apply`` (a float32 feature value, compared as
    a double with the node's threshold; left when ``<=``), and the same sum: per-tree
    path lengths added in tree order from 0 (``cumsum`` adds sequentially), so scores are
    bit for bit those of ``score_samples``. The trees' nodes are laid end to end; node
    ``n``'s children are ``children[2n]`` (right) and ``children[2n + 1]`` (left), and a
    leaf's are the leaf itself, so a walk is a fixed number of flat gathers. Indexes are
    ``intp``: numpy converts any other index type on every gather, which costs more than
    the memory saved.
    """

    def __init__(self, model: IsolationForest) -> None:
        trees = [e.tree_ for e in model.estimators_]
        counts = np.array([t.node_count for t in trees])
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.intp)
        total = int(counts.sum())
        self.children = np.empty(2 * total, dtype=np.intp)
        self.feature = np.empty(total, dtype=np.intp)
        self.threshold = np.empty(total)
        self.length = np.empty(total)  # decision path length + average path length - 1
        for i, (tree, start) in enumerate(zip(trees, starts, strict=True)):
            at = slice(int(start), int(start) + tree.node_count)
            own = np.arange(at.start, at.stop, dtype=np.intp)
            leaf = tree.children_left == -1
            self.children[2 * at.start : 2 * at.stop : 2] = np.where(
                leaf, own, tree.children_right + start
            )
            self.children[2 * at.start + 1 : 2 * at.stop : 2] = np.where(
                leaf, own, tree.children_left + start
            )
            self.feature[at] = np.maximum(tree.feature, 0)  # leaves: any valid column
            self.threshold[at] = tree.threshold
            self.length[at] = (
                model._decision_path_lengths[i] + model._average_path_length_per_tree[i] - 1.0
            )
        self.depth = max(t.max_depth for t in trees)
        self.roots = starts
        self.features = int(model._max_features)
        # sklearn's own formula, so that the direct path matches score_samples exactly
        from sklearn.ensemble._iforest import _average_path_length

        self.denominator = len(trees) * _average_path_length([model._max_samples])

    @classmethod
    def of(cls, model: IsolationForest) -> _TreeWalk | None:
        """The walk of ``model``, or None when this sklearn keeps other internals."""
        try:
            return cls(model)
        except (AttributeError, ImportError):  # pragma: no cover - another sklearn layout
            return None

    def scores(self, feats: FloatArray) -> FloatArray | None:
        """sklearn's anomaly scores (``-score_samples``) of ``feats``; None if it cannot."""
        if feats.shape[1] != self.features:
            return None  # features subsampled: leave it to sklearn
        # sklearn scores in float32; the comparison with a threshold is in double
        x = np.asarray(feats, dtype=np.float32).astype(np.float64)
        children, feature, threshold = self.children, self.feature, self.threshold
        if x.shape[0] == 1:  # the streaming case: one row, one node per tree
            row = x[0]
            node = self.roots
            for _ in range(self.depth):
                node = children[2 * node + (row[feature[node]] <= threshold[node])]
            depths = np.cumsum(self.length[node])[-1:]
        else:
            # node[r, t]: where row r is in tree t; offsets[r] finds row r's features
            flat = x.reshape(-1)
            offsets = (np.arange(x.shape[0]) * x.shape[1])[:, None]
            node = np.broadcast_to(self.roots, (x.shape[0], self.roots.size))
            for _ in range(self.depth):
                go_left = flat[feature[node] + offsets] <= threshold[node]
                node = children[2 * node + go_left]
            depths = np.cumsum(self.length[node], axis=1)[:, -1]
        d = self.denominator
        out: FloatArray = 2 ** (-np.divide(depths, d, out=np.ones_like(depths), where=d != 0))
        return out


class _RowRing:
    """The last ``size`` feature rows, oldest first, in one array.

    Not a deque of row arrays: 2,000 small arrays per series cost twice the memory, and
    Python's garbage collector visits each of them on every full collection (two million
    visits with 1,000 series, a pause landing on some tick).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._buf: FloatArray | None = None
        self._next = 0  # where the next row goes
        self._count = 0  # rows stored so far

    def __len__(self) -> int:
        return min(self._count, self.size)

    def extend(self, rows: FloatArray) -> None:
        """Append rows (shaped ``(n, features)``), dropping the oldest past ``size``."""
        if self._buf is None:
            self._buf = np.empty((self.size, rows.shape[1]))
        self._count += rows.shape[0]
        rows = rows[-self.size :]
        at, n = self._next, rows.shape[0]
        first = min(n, self.size - at)
        self._buf[at : at + first] = rows[:first]
        self._buf[: n - first] = rows[first:]
        self._next = (at + n) % self.size

    def rows(self) -> FloatArray:
        """The rows held, oldest first (a copy)."""
        if self._buf is None:
            return np.zeros((0, 0))
        if self._count < self.size:
            return self._buf[: self._count].copy()
        return np.concatenate((self._buf[self._next :], self._buf[: self._next]))


def window_features(windows: FloatArray) -> FloatArray:
    """Features of rows from their windows, shaped ``(rows, window + 1, metrics)``.

    The last entry of each window is the row itself. Returns ``(rows, 4 * metrics)``.
    """
    w = np.ascontiguousarray(windows, dtype=np.float64)
    current = w[:, -1, :]
    previous = w[:, -2, :]
    # np.median and np.std of axis 1, spelled out: the same operations in the same order
    # (the same bits, which the tests check) without their dispatch, a third of the cost
    # of scoring one row
    before = np.sort(w[:, :-1, :], axis=1)
    half = before.shape[1] // 2
    if before.shape[1] % 2:
        centre = before[:, half, :]
    else:
        centre = (before[:, half - 1, :] + before[:, half, :]) / 2.0
    size = w.shape[1]
    deviation = w - w.sum(axis=1, keepdims=True) / size
    spread = np.sqrt((deviation * deviation).sum(axis=1) / size)
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
        self._train = _RowRing(train_rows)  # their features
        self._model: IsolationForest | None = None
        self._walk: _TreeWalk | None = None
        self._low = np.zeros(0)
        self._high = np.zeros(0)
        self._spread = np.zeros(0)
        self._since_fit = 0
        self._first_fit = min_train_rows

    def stagger(self, phase: int) -> None:
        """Fit first ``phase % refit_every`` rows later (see :class:`.base.Refitting`)."""
        if self._model is not None or len(self._train):
            raise ValueError("stagger a detector before its first row")
        self._first_fit = min(self.train_rows, self.min_train_rows + phase % self.refit_every)
        self.calibrator.stagger(phase)

    def _windows(self, rows: FloatArray) -> FloatArray | None:
        """Windows ending at each of ``rows``, using the remembered rows before them."""
        if len(self._recent) < self.window:
            return None
        history = np.concatenate((np.array(self._recent), rows))
        if rows.shape[0] == 1:  # the streaming case: the one window is the history
            return history[None]
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
            # getattr: state pickled before staggering existed
            return getattr(self, "_first_fit", self.min_train_rows) - len(self._train)
        return self.refit_every - self._since_fit

    def _score_block(self, rows: FloatArray) -> FloatArray:
        """Score rows that all come before the next refit, then learn from them."""
        out = np.zeros(rows.shape[0])
        windows = self._windows(rows)
        if windows is not None:
            feats = window_features(windows)
            if self._model is not None and rows.shape[0] == 1:
                out[0] = self.calibrator.update(float(self._raw(feats)[0]))
            elif self._model is not None:
                out = self.calibrator.update_many(self._raw(feats))
            self._train.extend(feats)
            self._since_fit += rows.shape[0]
            if self._next_fit_in() <= 0:
                self._fit()
        self._recent.extend(rows)
        return out

    def _raw(self, feats: FloatArray) -> FloatArray:
        assert self._model is not None
        walk = getattr(self, "_walk", None)  # None in state pickled before it existed
        direct = walk.scores(feats) if walk is not None and feats.shape[0] <= DIRECT_ROWS else None
        isolation: FloatArray = -self._model.score_samples(feats) if direct is None else direct
        if not self.extrapolate:
            return isolation
        # how far outside the training range, in interquartile spreads (see module doc)
        beyond = np.maximum(feats - self._high, self._low - feats) / self._spread
        out: FloatArray = isolation + np.maximum(beyond, 0.0).max(axis=1)
        return out

    def _fit(self) -> None:
        train = self._train.rows()
        # the same sample size for every fit keeps raw scores comparable across refits
        # (sklearn normalises path lengths by the sample size)
        samples = min(256, self.min_train_rows)
        from sklearn.ensemble import IsolationForest

        model = IsolationForest(
            n_estimators=self.trees, max_samples=samples, random_state=self.seed
        )
        self._model = model.fit(train)
        self._walk = _TreeWalk.of(self._model)
        self._low = train.min(axis=0)
        self._high = train.max(axis=0)
        q25, q75 = np.percentile(train, [25.0, 75.0], axis=0)
        scale = np.maximum(q75 - q25, 1e-3 * np.abs(np.median(train, axis=0)))
        self._spread = np.maximum(scale, 1e-9)
        self._since_fit = 0


__all__ = ["DIRECT_ROWS", "ForestDetector", "window_features"]
