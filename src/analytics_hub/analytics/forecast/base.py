"""The forecaster interface: fit a regularly spaced series, predict h steps with an interval.

Every model is a :class:`Forecaster`. The base class owns what all models share, so that
each model only implements its own arithmetic:

- input checks (1-D, finite, long enough) answered with a :class:`ValidationError` that
  says what is wrong, never a crash inside statsmodels;
- season handling: ``season_length`` is one period or several (hourly data: 24 and 168);
  periods the history cannot support (fewer than two full cycles) are dropped, and a
  series with none left is treated as non-seasonal;
- constant series: forecast the constant with a zero-width interval (the honest answer,
  and statsmodels fails on them);
- level checks for the interval.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analytics_hub.errors import HubError, ValidationError

FloatArray = NDArray[np.float64]

#: Fewer points than this cannot be forecast meaningfully by any model here.
MIN_POINTS = 4


class ForecastFailedError(HubError):
    """A model could not produce a forecast for this series (a numerical failure).

    Raised instead of the library's own exception so that callers can fall back to
    another model; the ensemble drops a member that raises it.
    """

    status = 422
    code = "forecast_failed"


class Bands(Protocol):
    """Anything with a point forecast and an interval per step (a prediction or forecast)."""

    @property
    def mean(self) -> FloatArray: ...

    @property
    def lower(self) -> FloatArray: ...

    @property
    def upper(self) -> FloatArray: ...

    @property
    def level(self) -> float: ...


@dataclass(frozen=True)
class Prediction:
    """A point forecast with a central prediction interval at ``level`` for each step."""

    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float

    def __post_init__(self) -> None:
        if not (self.mean.shape == self.lower.shape == self.upper.shape) or self.mean.ndim != 1:
            raise ValueError("mean, lower and upper must be 1-D arrays of the same length")

    @property
    def horizon(self) -> int:
        """Number of forecast steps."""
        return int(self.mean.shape[0])


def check_level(level: float) -> float:
    """Return ``level`` if it is a valid interval coverage (strictly between 0 and 1)."""
    if not 0.0 < level < 1.0:
        raise ValidationError(f"interval level must be between 0 and 1 (exclusive), got {level}")
    return float(level)


def check_values(values: ArrayLike) -> FloatArray:
    """Convert ``values`` to a float array, rejecting shapes and values no model can use."""
    try:
        y = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"series values must be numbers: {exc}") from exc
    if y.ndim != 1:
        raise ValidationError(f"a series must be one-dimensional, got shape {y.shape}")
    if y.size == 0:
        raise ValidationError("the series is empty")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        # Gaps must be filled (or the series re-bucketed) by the caller: a silent
        # interpolation here would hide missing data behind a confident forecast.
        shown = ", ".join(str(i) for i in bad[:5])
        raise ValidationError(
            f"the series has {bad.size} missing or non-finite values (positions {shown}"
            f"{', ...' if bad.size > 5 else ''}); fill gaps before forecasting"
        )
    if y.size < MIN_POINTS:
        raise ValidationError(f"at least {MIN_POINTS} points are needed, got {y.size}")
    return y


def usable_seasons(season_length: int | Sequence[int], n: int) -> tuple[int, ...]:
    """Seasonal periods, shortest first, that a history of ``n`` points supports.

    A period needs at least two full cycles to be estimated at all; periods of 1 mean
    "no seasonality" and are dropped.
    """
    periods = (season_length,) if isinstance(season_length, int) else tuple(season_length)
    for p in periods:
        if not isinstance(p, int | np.integer) or p < 1:
            raise ValidationError(f"season lengths must be positive integers, got {p!r}")
    return tuple(sorted({int(p) for p in periods if p > 1 and n >= 2 * p}))


class Forecaster(abc.ABC):
    """Fit on one regularly spaced series, then predict ``h`` steps with an interval.

    Subclasses implement :meth:`_fit` and :meth:`_predict`; the public :meth:`fit` and
    :meth:`predict` do the checks every model needs.
    """

    #: The name the model is registered under.
    name: ClassVar[str]

    def __init__(self) -> None:
        self._n = 0
        self._seasons: tuple[int, ...] = ()
        self._constant: float | None = None

    @property
    def season(self) -> int:
        """The primary (shortest usable) seasonal period, 1 for a non-seasonal fit."""
        return self._seasons[0] if self._seasons else 1

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` has been called successfully."""
        return self._n > 0

    def fit(self, values: ArrayLike, season_length: int | Sequence[int] = 1) -> Self:
        """Fit the model to ``values`` (oldest first) with the given seasonal period(s)."""
        y = check_values(values)
        self._seasons = usable_seasons(season_length, y.size)
        self._constant = float(y[0]) if np.ptp(y) == 0.0 else None
        if self._constant is None:
            try:
                self._fit(y)
            except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
                raise ForecastFailedError(f"the {self.name} model failed to fit: {exc}") from exc
        self._n = int(y.size)
        return self

    def predict(self, horizon: int, level: float = 0.95) -> Prediction:
        """Forecast ``horizon`` steps after the fitted history with a ``level`` interval."""
        if not self.fitted:
            raise ValidationError(f"the {self.name} model must be fitted before predicting")
        if horizon < 1:
            raise ValidationError(f"the horizon must be at least one step, got {horizon}")
        level = check_level(level)
        if self._constant is not None:
            flat = np.full(horizon, self._constant)
            return Prediction(flat, flat.copy(), flat.copy(), level)
        try:
            pred = self._predict(horizon, level)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            raise ForecastFailedError(f"the {self.name} model failed to predict: {exc}") from exc
        # Guard against a model's numerical blow-up reaching users as NaN or inf.
        if not (
            np.all(np.isfinite(pred.mean))
            and np.all(np.isfinite(pred.lower))
            and np.all(np.isfinite(pred.upper))
        ):
            raise ForecastFailedError(f"the {self.name} model produced a non-finite forecast")
        # Quantile intervals must contain the point forecast; rounding in back-transforms
        # can leave it a hair outside.
        lower = np.minimum(pred.lower, pred.mean)
        upper = np.maximum(pred.upper, pred.mean)
        return Prediction(pred.mean, lower, upper, level)

    @abc.abstractmethod
    def _fit(self, y: FloatArray) -> None:
        """Fit to the checked, non-constant series ``y``; ``self._seasons`` is set."""

    @abc.abstractmethod
    def _predict(self, horizon: int, level: float) -> Prediction:
        """Forecast ``horizon`` steps with a ``level`` interval."""
