"""Calibration: raw scores become tail probabilities under the series' own history."""

from __future__ import annotations

import numpy as np
import pytest

from analytics_hub.analytics.anomaly.calibrate import TailCalibrator, from_surprise, surprise


def test_nothing_is_calibrated_before_warm_up() -> None:
    cal = TailCalibrator(warmup=10, refit_every=5)
    assert [cal.update(float(x)) for x in range(10)] == [0.0] * 10
    assert cal.ready
    assert cal.update(5.0) > 0.0


def test_probabilities_are_empirical_ranks_inside_the_history() -> None:
    cal = TailCalibrator(warmup=100, refit_every=1000, min_count=5)
    cal.update_many(np.arange(100, dtype=np.float64))  # history 0..99
    # 20 of the 100 past scores are >= 80
    assert cal.update(80.0) == pytest.approx(1 - 20 / 100)
    assert cal.update(-1.0) == 0.0


def test_beyond_the_history_the_tail_is_exponential_and_keeps_ordering() -> None:
    cal = TailCalibrator(warmup=100, refit_every=1000, tail_quantile=0.9)
    cal.update_many(np.arange(100, dtype=np.float64))
    # above the 90th percentile (90) the mean excess is 4.5: tail = 0.1 exp(-(r - 90) / 4.5)
    p = cal.update_many(np.array([120.0, 150.0, 200.0]))
    expected = 1 - 0.1 * np.exp(-(np.array([120.0, 150.0, 200.0]) - 90.0) / 4.5)
    np.testing.assert_allclose(p, expected)
    assert p[0] < p[1] < p[2]


def test_a_flat_history_makes_any_rise_maximally_surprising() -> None:
    cal = TailCalibrator(warmup=50, refit_every=10)
    cal.update_many(np.zeros(50))
    assert cal.update(0.0) == 0.0
    assert cal.update(0.001) == 1.0


def test_block_updates_equal_single_updates_across_refits_and_wraparound() -> None:
    rng = np.random.default_rng(1)
    raws = rng.exponential(1.0, 700)
    one = TailCalibrator(warmup=30, history=100, refit_every=7)
    singles = np.array([one.update(float(r)) for r in raws])
    block = TailCalibrator(warmup=30, history=100, refit_every=7)
    parts = [block.update_many(raws[a:b]) for a, b in ((0, 13), (13, 400), (400, 700))]
    np.testing.assert_array_equal(np.concatenate(parts), singles)


def test_only_the_last_history_scores_count() -> None:
    cal = TailCalibrator(warmup=10, history=10, refit_every=1)
    cal.update_many(np.full(10, 100.0))
    cal.update_many(np.zeros(10))  # the hundreds have left the history
    assert cal.update(50.0) == 1.0


def test_surprise_round_trips() -> None:
    p = np.array([0.0, 0.9, 0.999])
    np.testing.assert_allclose(surprise(p), [0.0, 1.0, 3.0])
    np.testing.assert_allclose(from_surprise(surprise(p)), p)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="min_count"):
        TailCalibrator(warmup=2, min_count=5)
    with pytest.raises(ValueError, match="tail_quantile"):
        TailCalibrator(tail_quantile=1.0)


@pytest.mark.parametrize(
    ("history", "refit_every", "phase"),
    [(100, 7, 0), (50, 1, 0), (64, 64, 0), (40, 45, 0), (100, 7, 5)],
)
def test_a_refit_keeps_exactly_the_sorted_window_of_the_last_scores(
    history: int, refit_every: int, phase: int
) -> None:
    # Refits update the sorted history in place; it must always be what sorting the
    # window would give, ties (repeated scores) included.
    rng = np.random.default_rng(history + refit_every)
    raws = rng.integers(0, 12, 600).astype(np.float64)  # many repeats
    one = TailCalibrator(warmup=20, history=history, refit_every=refit_every)
    block = TailCalibrator(warmup=20, history=history, refit_every=refit_every)
    one.stagger(phase)
    block.stagger(phase)
    fits = 0
    for i, r in enumerate(raws, start=1):
        one.update(float(r))
        if one._fresh == 0:  # it has just refitted
            fits += 1
            window = raws[max(0, i - history) : i]
            np.testing.assert_array_equal(one._sorted, np.sort(window))
    block.update_many(raws)
    np.testing.assert_array_equal(block._sorted, one._sorted)
    assert fits >= 600 // max(refit_every, 20) - 2


def test_a_staggered_calibrator_refits_on_rows_of_its_own_and_batches_still_agree() -> None:
    raws = np.random.default_rng(7).exponential(1.0, 400)
    fits: dict[int, list[int]] = {}
    for phase in (0, 7, 27):
        cal = TailCalibrator(warmup=30, history=100, refit_every=20)
        cal.stagger(phase)
        fits[phase] = [
            i for i, r in enumerate(raws, start=1) if cal.update(float(r)) >= 0 and cal._fresh == 0
        ]
        block = TailCalibrator(warmup=30, history=100, refit_every=20)
        block.stagger(phase)
        single = TailCalibrator(warmup=30, history=100, refit_every=20)
        single.stagger(phase)
        ones = np.array([single.update(float(r)) for r in raws])
        parts = [block.update_many(raws[a:b]) for a, b in ((0, 45), (45, 46), (46, 400))]
        np.testing.assert_array_equal(np.concatenate(parts), ones)
    # the first fit at the warm-up (30 scores), then every 20, moved along by the phase
    assert fits[0][:3] == [30, 50, 70]
    assert fits[7][:3] == [30, 43, 63]
    assert fits[27][:3] == fits[7][:3]  # modulo the interval
    used = TailCalibrator()
    used.update(1.0)
    with pytest.raises(ValueError, match="before its first score"):
        used.stagger(1)
