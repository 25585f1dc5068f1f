"""The ensemble weights members by holdout error and survives a failing member."""

from __future__ import annotations

import numpy as np
import pytest

from analytics_hub.analytics.forecast.base import (
    FloatArray,
    Forecaster,
    ForecastFailedError,
    Prediction,
)
from analytics_hub.analytics.forecast.ensemble import (
    WeightedEnsemble,
    _inverse_error_weights,
    combine,
    default_holdout,
)


class Offset(Forecaster):
    """Continues a straight line exactly, plus a fixed offset (a known holdout error)."""

    name = "offset"

    def __init__(self, offset: float) -> None:
        super().__init__()
        self.offset = offset
        self.fits: list[int] = []

    def _fit(self, y: FloatArray) -> None:
        self.fits.append(y.size)
        self._last, self._slope = float(y[-1]), float(y[-1] - y[-2])

    def _predict(self, horizon: int, level: float) -> Prediction:
        mean = self._last + self._slope * np.arange(1, horizon + 1) + self.offset
        return Prediction(mean, mean - 1.0, mean + 1.0, level)


class Broken(Forecaster):
    name = "broken"

    def _fit(self, y: FloatArray) -> None:
        raise np.linalg.LinAlgError("singular matrix")

    def _predict(self, horizon: int, level: float) -> Prediction:  # pragma: no cover
        raise AssertionError("never fitted")


LINE = np.arange(10.0, 110.0)


def test_weights_are_inverse_squared_holdout_errors() -> None:
    ensemble = WeightedEnsemble(
        {"near": lambda: Offset(1.0), "far": lambda: Offset(2.0)}, holdout=10
    ).fit(LINE)
    # Holdout MAEs 1 and 2: weights 1 and 1/4, normalised.
    assert ensemble.weights == pytest.approx({"near": 0.8, "far": 0.2})
    assert [s.error for s in ensemble.scores] == pytest.approx([1.0, 2.0])


def test_power_one_is_plain_inverse_error() -> None:
    ensemble = WeightedEnsemble(
        {"near": lambda: Offset(1.0), "far": lambda: Offset(3.0)}, holdout=10, power=1.0
    ).fit(LINE)
    assert ensemble.weights == pytest.approx({"near": 0.75, "far": 0.25})


def test_members_are_refit_on_the_whole_history() -> None:
    made: list[Offset] = []

    def factory() -> Offset:
        made.append(Offset(0.5))
        return made[-1]

    WeightedEnsemble({"a": factory}, holdout=20).fit(LINE)
    assert [m.fits for m in made] == [[80], [100]]


def test_forecast_is_the_weighted_combination_of_refit_members() -> None:
    ensemble = WeightedEnsemble(
        {"near": lambda: Offset(1.0), "far": lambda: Offset(2.0)}, holdout=10
    ).fit(LINE)
    pred = ensemble.predict(3)
    truth = 110.0 + np.arange(3)
    # Geometric mean of truth+1 and truth+2 with weights 0.8 and 0.2.
    expected = np.exp(0.8 * np.log(truth + 1.0) + 0.2 * np.log(truth + 2.0))
    assert pred.mean == pytest.approx(expected)
    assert set(ensemble.member_predictions(3)) == {"near", "far"}


def test_a_failing_member_gets_no_weight_and_says_why() -> None:
    ensemble = WeightedEnsemble({"ok": lambda: Offset(1.0), "broken": Broken}, holdout=10).fit(LINE)
    assert ensemble.weights == {"ok": 1.0, "broken": 0.0}
    failure = next(s.failure for s in ensemble.scores if s.name == "broken")
    assert "singular matrix" in failure
    assert ensemble.predict(2).mean == pytest.approx([111.0, 112.0])


def test_all_members_failing_is_a_forecast_failure() -> None:
    with pytest.raises(ForecastFailedError, match="every ensemble member failed"):
        WeightedEnsemble({"broken": Broken}, holdout=10).fit(LINE)


def test_perfect_members_share_the_weight() -> None:
    assert _inverse_error_weights({"a": 0.0, "b": 0.0, "c": 3.0}, 2.0) == {
        "a": 0.5,
        "b": 0.5,
        "c": 0.0,
    }


def test_combine_is_arithmetic_when_values_are_not_all_positive() -> None:
    a = Prediction(np.array([-1.0, 2.0]), np.array([-2.0, 1.0]), np.array([0.0, 3.0]), 0.9)
    b = Prediction(np.array([1.0, 4.0]), np.array([0.0, 3.0]), np.array([2.0, 5.0]), 0.9)
    out = combine({"a": a, "b": b}, {"a": 0.25, "b": 0.75}, 0.9)
    assert out.mean == pytest.approx([0.5, 3.5])
    assert out.lower == pytest.approx([-0.5, 2.5])
    assert out.upper == pytest.approx([1.5, 4.5])


def test_default_holdout_is_two_seasons_within_a_fifth_of_the_history() -> None:
    assert default_holdout(1000, 24) == 48
    assert default_holdout(100, 24) == 20
    assert default_holdout(180, 7) == 14
    assert default_holdout(100, 1) == 7
