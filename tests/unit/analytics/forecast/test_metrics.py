"""The M4 accuracy measures against small hand-computed examples."""

from __future__ import annotations

import pytest

from analytics_hub.analytics.forecast import metrics


def test_smape_matches_hand_computation() -> None:
    # |y-f| / (|y|+|f|) * 2: 2*10/210, 0, 2*20/180 -> mean * 100
    expected = 100 * (20 / 210 + 0 + 40 / 180) / 3
    assert metrics.smape([100, 50, 80], [110, 50, 100]) == pytest.approx(expected)


def test_smape_counts_zero_over_zero_as_no_error() -> None:
    assert metrics.smape([0, 10], [0, 10]) == 0.0
    assert metrics.smape([0, 10], [5, 10]) == pytest.approx(100.0)  # 200% on one of two


def test_mase_scales_by_in_sample_seasonal_naive_error() -> None:
    insample = [1, 2, 3, 2, 4, 5]  # season 3: |2-1|, |4-2|, |5-3| -> scale 5/3
    assert metrics.seasonal_naive_scale(insample, 3) == pytest.approx(5 / 3)
    # MAE of the forecast is (1 + 3) / 2 = 2
    assert metrics.mase(insample, [10, 20], [11, 17], 3) == pytest.approx(2 / (5 / 3))


def test_mase_falls_back_to_lag_one_when_history_is_shorter_than_a_season() -> None:
    assert metrics.seasonal_naive_scale([1, 3, 6], 24) == pytest.approx(2.5)


def test_scaled_measures_refuse_a_zero_scale() -> None:
    with pytest.raises(ValueError, match="zero"):
        metrics.mase([5, 5, 5, 5], [5], [6], 1)


def test_msis_penalises_misses_by_two_over_alpha() -> None:
    insample = [10, 12, 10, 12, 10]  # lag-1 scale = 2
    actual = [11, 20, 0]
    lower = [10, 10, 5]
    upper = [12, 15, 9]
    # widths 2, 5, 4; miss above by 5 and below by 5; 2/a = 40 at 95%
    expected = ((2) + (5 + 40 * 5) + (4 + 40 * 5)) / 3 / 2
    assert metrics.msis(insample, actual, lower, upper, 1, 0.95) == pytest.approx(expected)


def test_owa_averages_the_two_ratios_to_naive2() -> None:
    assert metrics.owa(9.0, 1.5, 18.0, 2.0) == pytest.approx(0.5 * (0.5 + 0.75))
    assert metrics.owa(18.0, 2.0, 18.0, 2.0) == pytest.approx(1.0)


def test_coverage_counts_bounds_as_inside() -> None:
    assert metrics.coverage([1, 2, 3, 4], [1, 0, 4, 0], [2, 2, 5, 3]) == pytest.approx(0.5)


def test_mape_and_its_undefined_case() -> None:
    assert metrics.mape([100, 200], [110, 150]) == pytest.approx((10 + 25) / 2)
    with pytest.raises(ValueError, match="zero"):
        metrics.mape([0, 1], [1, 1])


def test_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(ValueError, match="of one length"):
        metrics.smape([1, 2], [1])
