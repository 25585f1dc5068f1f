"""The context detector scores moves a series never made, not values far from the usual."""

from __future__ import annotations

import numpy as np
import pytest

from analytics_hub.analytics.anomaly import ContextDetector
from analytics_hub.analytics.anomaly.calibrate import TailCalibrator


def minutes(n: int) -> np.ndarray:
    return 1e9 + 60.0 * np.arange(n)


def bursty(seed: int, n: int = 3000, every: int = 300) -> np.ndarray:
    """Quiet noise with the same three-row burst every ``every`` rows."""
    rng = np.random.default_rng(seed)
    v = 10.0 + rng.normal(0, 0.5, n)
    for start in range(every + every // 2, n, every):  # the first after the warm-ups
        v[start : start + 3] += [30.0, 60.0, 30.0]
    return v


@pytest.mark.parametrize("seed", range(3))
def test_a_burst_like_earlier_ones_scores_lower_than_the_first(seed: int) -> None:
    v = bursty(seed)
    scores = ContextDetector(warmup=100).score_many(minutes(v.size), v)
    first = scores[450:453].max()  # the first burst
    late = scores[2850:2853].max()  # the ninth: a move the series has made eight times
    assert first > 0.99
    assert late < first
    assert late < 0.9


@pytest.mark.parametrize("seed", range(3))
def test_a_move_never_made_scores_high_though_the_value_is_usual(seed: int) -> None:
    # a square wave between 0 and 10: both values are common; staying up for a second row
    # after going up has never happened
    rng = np.random.default_rng(seed)
    v = np.tile([0.0, 0.0, 10.0], 1000) + rng.normal(0, 0.1, 3000)
    v[2500:2502] = 10.0  # up two rows in a row at 2501
    scores = ContextDetector(warmup=100).score_many(minutes(v.size), v)
    assert scores[2501] > 0.999
    assert scores[2000:2499].max() < scores[2501]


def test_a_new_extreme_is_scored_on_the_old_grid_then_rebuilds_it() -> None:
    v = bursty(7, n=1000, every=10_000)  # no bursts: noise around 10
    v[800] = 100.0
    d = ContextDetector(warmup=100)
    before = d.score_many(minutes(800), v[:800])
    grids = d.grids
    spike = d.update(1e9 + 60.0 * 800, 100.0)
    assert d.grids == grids + 1
    assert spike > 0.999
    assert spike > before.max()
    # the noise now sits in the lowest levels of a grid that spans the spike
    assert d._level(10.0) <= 1
    assert d._level(100.0) < d.levels


@pytest.mark.parametrize(("levels", "order"), [(6, 3), (20, 2), (40, 2)])  # 16/32/64-bit masks
def test_the_vectorised_relearning_equals_learning_row_by_row(levels: int, order: int) -> None:
    v = bursty(3, n=2000, every=170)
    d = ContextDetector(warmup=100, levels=levels, order=order)
    d.score_many(minutes(v.size), v)
    d._regrid()
    table = list(d._followers)
    recent = list(d._recent)
    # the same grid, learned one row at a time on a cleared memory
    for i in range(len(d._followers)):
        d._followers[i] = 0
    d._recent = []
    for value in v[-d.history :]:
        d._learn(d._level(float(value)))
    assert table == list(d._followers)
    assert recent == d._recent
    assert sum(1 for x in table if x) > 10  # it did learn many contexts
    # and levels past the narrower integer widths (the masks' high bits survive numpy)
    assert max(table).bit_length() > {6: 6, 20: 16, 40: 32}[levels]


def test_the_grid_is_rebuilt_every_history_rows_and_stagger_moves_that() -> None:
    rng = np.random.default_rng(1)
    v = np.sin(np.arange(1300) / 10.0) + rng.normal(0, 0.01, 1300)  # never a new extreme

    def grid_rows(d: ContextDetector) -> list[int]:
        rows, grids = [], 0
        for i, x in enumerate(v, start=1):
            d.update(1e9 + 60.0 * i, float(x))
            if d.grids != grids:
                rows.append(i)
                grids = d.grids
        return rows

    assert grid_rows(ContextDetector(warmup=100, history=500)) == [100, 600, 1100]
    staggered = ContextDetector(warmup=100, history=500)
    staggered.stagger(1200)  # taken modulo the history: 200 rows sooner
    assert grid_rows(staggered) == [100, 400, 900]
    with pytest.raises(ValueError, match="before its first row"):
        staggered.stagger(1)


def test_a_flat_series_scores_zero_and_a_step_off_it_scores_high() -> None:
    v = np.full(600, 5.0)
    v[550] = 6.0
    scores = ContextDetector(warmup=100, calibrator=TailCalibrator(warmup=50)).score_many(
        minutes(v.size), v
    )
    assert scores[:550].max() < 0.99
    assert scores[550] > 0.999


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="levels"):
        ContextDetector(levels=1)
    with pytest.raises(ValueError, match="contexts"):
        ContextDetector(levels=60, order=4)
    with pytest.raises(ValueError, match="warmup"):
        ContextDetector(warmup=50, history=10)
