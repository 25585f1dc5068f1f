"""The streaming contract every registered detector keeps, checked on each of them."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from analytics_hub.analytics.anomaly import Detector, builtin_registry, default_ensemble
from analytics_hub.errors import ValidationError

Series = tuple[NDArray[np.float64], NDArray[np.float64]]
DAY_ROWS = 288  # five-minute rows (see conftest.daily_series)
REGISTRY = builtin_registry()
# small, fast settings where the defaults would need days of data
FAST: dict[str, dict[str, object]] = {
    "forest": {"train_rows": 300, "min_train_rows": 200, "refit_every": 150, "trees": 20},
}


def make(name: str) -> Detector:
    return REGISTRY.create(name, **FAST.get(name, {}))


@pytest.fixture(params=REGISTRY.names())
def detector_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_every_builtin_is_a_detector(detector_name: str) -> None:
    assert isinstance(make(detector_name), Detector)
    assert make(detector_name).name == detector_name


def test_no_peeking_scores_of_a_prefix_do_not_change_when_rows_are_appended(
    detector_name: str, seasonal_data: Callable[..., Series]
) -> None:
    t, v = seasonal_data(days=3)
    v[2 * DAY_ROWS + 10] += 60  # something worth scoring high
    full = make(detector_name).score_many(t, v)
    cut = 2 * DAY_ROWS + 20
    prefix = make(detector_name).score_many(t[:cut], v[:cut])
    np.testing.assert_array_equal(prefix, full[:cut])


def test_batch_scoring_equals_row_by_row_updates(
    detector_name: str, seasonal_data: Callable[..., Series]
) -> None:
    t, v = seasonal_data(days=2.5)
    batch = make(detector_name).score_many(t, v)
    one_by_one = make(detector_name)
    rows = np.array([one_by_one.update(float(a), float(b)) for a, b in zip(t, v, strict=True)])
    np.testing.assert_array_equal(rows, batch)
    # and a batch split anywhere continues where the first part stopped
    split = make(detector_name)
    parts = np.concatenate((split.score_many(t[:333], v[:333]), split.score_many(t[333:], v[333:])))
    np.testing.assert_array_equal(parts, batch)


def test_cold_start_answers_zero_then_scores_in_zero_one(
    detector_name: str, seasonal_data: Callable[..., Series]
) -> None:
    t, v = seasonal_data(days=3)
    scores = make(detector_name).score_many(t, v)
    assert np.all(scores[:100] == 0.0)  # no baseline after 100 rows (8 hours)
    assert np.all((scores >= 0.0) & (scores <= 1.0))
    assert scores[-DAY_ROWS:].max() > 0.0  # and it is scoring by the third day


def test_state_pickles_mid_stream_and_resumes_identically(
    detector_name: str, seasonal_data: Callable[..., Series]
) -> None:
    t, v = seasonal_data(days=2.5)
    straight = make(detector_name).score_many(t, v)
    first = make(detector_name)
    head = first.score_many(t[:500], v[:500])
    resumed: Detector = pickle.loads(pickle.dumps(first))
    tail = resumed.score_many(t[500:], v[500:])
    np.testing.assert_array_equal(np.concatenate((head, tail)), straight)


def test_bad_rows_are_refused_with_clear_errors(detector_name: str) -> None:
    d = make(detector_name)
    with pytest.raises(ValidationError, match="finite"):
        d.update(1.0, math.nan)
    with pytest.raises(ValidationError, match="finite"):
        d.score_many([1.0, 2.0], [1.0, math.inf])
    d.update(100.0, 1.0)
    with pytest.raises(ValidationError, match="time order"):
        d.update(50.0, 1.0)
    with pytest.raises(ValidationError, match="timestamps"):
        d.score_many([1.0, 2.0], [1.0])
    assert d.score_many([], []).shape == (0,)


def test_a_constant_series_raises_no_alarm_and_does_not_crash(detector_name: str) -> None:
    t = 1e9 + 60.0 * np.arange(1500)
    scores = make(detector_name).score_many(t, np.full(1500, 45.0))
    # (the forest's raw score moves a little between refits, as its sample size grows)
    assert scores.max() < 0.5


def test_the_default_ensemble_keeps_the_contract_too(
    seasonal_data: Callable[..., Series],
) -> None:
    t, v = seasonal_data(days=2.5)
    full = default_ensemble().score_many(t, v)
    prefix = default_ensemble().score_many(t[:600], v[:600])
    np.testing.assert_array_equal(prefix, full[:600])
    assert np.all((full >= 0.0) & (full <= 1.0))
