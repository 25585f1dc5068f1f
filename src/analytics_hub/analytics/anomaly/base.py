"""The detector interface: streaming scores in [0, 1], no peeking ahead, cold start at 0.

A detector reads one series in time order. ``update(timestamp, value)`` scores the newest
row using only that row and the rows before it, then learns from it; the score is a
calibrated probability that the row is anomalous (see :mod:`.calibrate`). Until a
detector has a baseline it answers 0, so a new series raises no alarm.

``score_many`` scores a whole batch and must give exactly what the same rows fed one by
one to ``update`` would give; detectors override it only to go faster (the Isolation
Forest scores the rows between two refits in one call).

A row carries one value or several (a rollup row's latency percentiles, error rate,
tokens, cost and count). Univariate detectors take exactly one.

Detectors are plain objects holding numbers, deques and numpy arrays, so their state
pickles: a scoring service can persist a series' detector and resume it later.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analytics_hub.errors import ValidationError

FloatArray = NDArray[np.float64]
#: one row's value: a number, or one number per metric
Observation = float | Sequence[float] | FloatArray


@runtime_checkable
class Detector(Protocol):
    """Scores a series row by row; each score is in [0, 1] and never looks ahead."""

    name: str

    def update(self, timestamp: float, value: Observation) -> float:
        """Score the row at ``timestamp`` (seconds since the epoch), then learn from it."""
        ...

    def score_many(self, timestamps: ArrayLike, values: ArrayLike) -> FloatArray:
        """Score rows in time order; equal to calling :meth:`update` on each in turn."""
        ...


def as_row(value: Observation) -> FloatArray:
    """One row's values as a 1-d float array; rejects NaN, infinities and empty rows."""
    row = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if row.ndim != 1 or row.size == 0:
        raise ValidationError("a row needs one value or a flat list of values")
    if not bool(np.all(np.isfinite(row))):
        raise ValidationError("values must be finite numbers (got NaN or infinity)")
    return row


def as_batch(timestamps: ArrayLike, values: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Validate a batch: timestamps ``(n,)`` and values ``(n,)`` or ``(n, metrics)``.

    The result's values are always 2-d (``(n, metrics)``).
    """
    ts = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    vals = np.asarray(values, dtype=np.float64)
    if vals.ndim == 1:
        vals = vals.reshape(-1, 1)
    if vals.ndim != 2 or vals.shape[0] != ts.size:
        raise ValidationError(f"{ts.size} timestamps but values of shape {vals.shape}")
    if ts.size and (vals.shape[1] == 0 or not bool(np.all(np.isfinite(vals)))):
        raise ValidationError("values must be finite numbers (got NaN or infinity)")
    if not bool(np.all(np.isfinite(ts))):
        raise ValidationError("timestamps must be finite")
    return ts, vals


@runtime_checkable
class Refitting(Protocol):
    """A detector that refits on a schedule: a model every so many rows (the forest, the
    deep ones), its calibration every 20 scores (every detector with a calibrator).

    Detectors of many series started together (a hub priming every series from the same
    hours of history) would all refit on the same row, so the scorer that holds them
    spreads their schedules with :meth:`stagger`.
    """

    def stagger(self, phase: int) -> None:
        """Before the first row: move the refits ``phase`` rows along (taken modulo each
        refit interval; a model's first fit comes that much later), so that detectors
        with other phases refit on other rows."""
        ...


class StreamingDetector(ABC):
    """Shared plumbing: input checks, time order, and the one-by-one ``score_many``.

    Subclasses implement :meth:`_score` on validated input.
    """

    name: str = "detector"

    def __init__(self) -> None:
        self._last_ts = -math.inf
        self._metrics: int | None = None

    def _check(self, timestamp: float, row: FloatArray) -> None:
        self._check_size(timestamp, int(row.size))

    def _check_size(self, timestamp: float, size: int) -> None:
        if not math.isfinite(timestamp):
            raise ValidationError("timestamps must be finite")
        # equal timestamps are allowed (some sources repeat a reading); going back is not
        if timestamp < self._last_ts:
            raise ValidationError(
                f"{self.name}: rows must arrive in time order ({timestamp} after {self._last_ts})"
            )
        if self._metrics is None:
            self._metrics = size
        elif size != self._metrics:
            raise ValidationError(
                f"{self.name}: {size} values in a row, earlier rows had {self._metrics}"
            )
        self._last_ts = timestamp

    def update(self, timestamp: float, value: Observation) -> float:
        """Score one row, then learn from it (see :class:`Detector`)."""
        row = as_row(value)
        self._check(float(timestamp), row)
        return self._score(float(timestamp), row)

    def score_many(self, timestamps: ArrayLike, values: ArrayLike) -> FloatArray:
        """Score rows in time order (see :class:`Detector`)."""
        ts, vals = as_batch(timestamps, values)
        return np.array([self.update(float(t), v) for t, v in zip(ts, vals, strict=True)])

    @abstractmethod
    def _score(self, timestamp: float, row: FloatArray) -> float:
        """Score a validated row that is later than every row seen so far."""


class UnivariateDetector(StreamingDetector):
    """A detector of one metric: a row with more than one value is an error."""

    def update(self, timestamp: float, value: Observation) -> float:
        """Score one row, then learn from it (see :class:`Detector`)."""
        if type(value) is not float:  # a plain number skips the array checks: the hot path
            return super().update(timestamp, value)
        if not math.isfinite(value):
            raise ValidationError("values must be finite numbers (got NaN or infinity)")
        self._check_size(float(timestamp), 1)
        return self._score_value(float(timestamp), value)

    def _score(self, timestamp: float, row: FloatArray) -> float:
        if row.size != 1:
            raise ValidationError(f"{self.name} scores one metric; got {row.size} values")
        return self._score_value(timestamp, float(row[0]))

    @abstractmethod
    def _score_value(self, timestamp: float, value: float) -> float:
        """Score one validated value."""


__all__ = [
    "Detector",
    "FloatArray",
    "Observation",
    "Refitting",
    "StreamingDetector",
    "UnivariateDetector",
    "as_batch",
    "as_row",
]
