"""The ensemble: members weighted by their error on a holdout at the end of the history.

Fit: hold out the last ``holdout`` points, fit every member on the rest and forecast the
holdout, score each by its mean absolute error there, weight each member by
``1 / error ** power``, then refit every member on the whole history. Predict: the
weighted mean (geometric for positive series) of the members' point forecasts and, for the
interval, the same mean of their bounds (averaging quantiles keeps the interval's coverage
close to the members'). A member that fails to fit or forecast gets weight zero and the
rest carry on. The choice of members and of ``power`` is explained in
``docs/decisions/0009-forecast-ensemble.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from analytics_hub.analytics.forecast.base import (
    FloatArray,
    Forecaster,
    ForecastFailedError,
    Prediction,
)

#: Members of the default ensemble, chosen on the M4 hourly *training* windows.
DEFAULT_MEMBERS = ("arima", "mstl_ets")


@dataclass(frozen=True)
class MemberScore:
    """How one member did on the holdout: its error, its weight, or why it was dropped."""

    name: str
    error: float
    weight: float
    failure: str = ""


def default_holdout(n: int, season: int) -> int:
    """Two seasons (at least 7 points), but never more than a fifth of the history."""
    return max(1, min(max(2 * season, 7), n // 5))


class WeightedEnsemble(Forecaster):
    """Inverse-holdout-error weighted combination of member forecasters."""

    name = "ensemble"

    def __init__(
        self,
        members: Mapping[str, Callable[[], Forecaster]],
        *,
        holdout: int | None = None,
        power: float = 2.0,
    ) -> None:
        """``members`` maps names to factories of fresh, unfitted models."""
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self._factories = dict(members)
        self._holdout = holdout
        self._power = power
        self._fitted: dict[str, Forecaster] = {}
        self._scores: tuple[MemberScore, ...] = ()

    @property
    def scores(self) -> tuple[MemberScore, ...]:
        """Each member's holdout error and weight (after :meth:`fit`)."""
        return self._scores

    @property
    def weights(self) -> dict[str, float]:
        """Member name to weight; weights sum to one."""
        return {s.name: s.weight for s in self._scores}

    def _fit(self, y: FloatArray) -> None:
        seasons = self._seasons or (1,)
        holdout = self._holdout or default_holdout(y.size, self.season)
        holdout = min(holdout, y.size // 2)
        train, test = y[:-holdout], y[-holdout:]
        errors: dict[str, float] = {}
        failures: dict[str, str] = {}
        for name, factory in self._factories.items():
            try:
                pred = factory().fit(train, seasons).predict(holdout)
                errors[name] = float(np.mean(np.abs(test - pred.mean)))
            except ForecastFailedError as exc:
                failures[name] = exc.message
        self._fitted = {}
        for name in errors:
            try:
                self._fitted[name] = self._factories[name]().fit(y, seasons)
            except ForecastFailedError as exc:
                failures[name] = exc.message
        usable = {name: errors[name] for name in self._fitted}
        if not usable:
            raise ValueError(f"every ensemble member failed: {failures}")
        weights = _inverse_error_weights(usable, self._power)
        self._scores = tuple(
            MemberScore(
                name, errors.get(name, float("nan")), weights.get(name, 0.0), failures.get(name, "")
            )
            for name in self._factories
        )

    def member_predictions(self, horizon: int, level: float = 0.95) -> dict[str, Prediction]:
        """Each fitted member's own forecast (for reports that show members beside it)."""
        return {name: model.predict(horizon, level) for name, model in self._fitted.items()}

    def _predict(self, horizon: int, level: float) -> Prediction:
        return combine(self.member_predictions(horizon, level), self.weights, level)


def combine(
    predictions: Mapping[str, Prediction], weights: Mapping[str, float], level: float
) -> Prediction:
    """The weighted mean of the members' point forecasts and of their interval bounds.

    When every value is positive the mean is taken on the log scale (a weighted geometric
    mean): one member running away upwards then moves the combination less, and on the M4
    training windows it was more accurate than the arithmetic mean.
    """
    names = [n for n in predictions if weights.get(n, 0.0) > 0.0]
    if not names:
        raise ValueError("no member has a positive weight")
    w = np.array([weights[n] for n in names])
    w = w / w.sum()
    stacked = {
        attr: np.stack([getattr(predictions[n], attr) for n in names])
        for attr in ("mean", "lower", "upper")
    }
    positive = all(bool(np.all(a > 0.0)) for a in stacked.values())

    def mix(attr: str) -> FloatArray:
        if positive:
            return np.asarray(np.exp(w @ np.log(stacked[attr])), dtype=np.float64)
        return np.asarray(w @ stacked[attr], dtype=np.float64)

    return Prediction(mix("mean"), mix("lower"), mix("upper"), level)


def _inverse_error_weights(errors: Mapping[str, float], power: float) -> dict[str, float]:
    """Weights proportional to ``error ** -power``; a perfect member takes all the weight."""
    values = np.array(list(errors.values()))
    if np.any(values <= 0.0):
        # Zero holdout error: share the weight among the perfect members instead of
        # dividing by zero.
        raw = (values <= 0.0).astype(np.float64)
    else:
        # Scale by the best error first so that large errors cannot underflow to zero.
        raw = (values / values.min()) ** -power
    raw = raw / raw.sum()
    return dict(zip(errors, (float(v) for v in raw), strict=True))
