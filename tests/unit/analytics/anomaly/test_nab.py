"""NAB scoring against hand-computed cases, and the vectorised sweep against brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics_hub.analytics.anomaly import nab
from analytics_hub.errors import ValidationError

STANDARD = nab.PROFILES["standard"]
LOW_FP = nab.PROFILES["reward_low_FP_rate"]
LOW_FN = nab.PROFILES["reward_low_FN_rate"]


def sigma(y: float) -> float:
    """NAB's scaled sigmoid, written out by hand."""
    return -1.0 if y > 3 else 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def twenty_rows(*windows: tuple[int, int]) -> nab.LabelledFile:
    """20 rows at t = 0..19; windows given as inclusive (start, end) times."""
    return nab.label_file("f.csv", np.arange(20, dtype=np.int64), list(windows))


def scores_at(rows: dict[int, float], n: int = 20) -> np.ndarray:
    s = np.zeros(n)
    for i, v in rows.items():
        s[i] = v
    return s


def test_scaled_sigmoid_matches_the_formula_and_clamps_past_three() -> None:
    ys = np.array([-1.0, -0.5, 0.0, 1.0, 3.0, 3.0001, 50.0])
    got = nab.scaled_sigmoid(ys)
    assert got[:5] == pytest.approx([sigma(y) for y in ys[:5]])
    assert got[2] == 0.0
    assert got[0] == pytest.approx(0.9866142981514305)
    assert list(got[5:]) == [-1.0, -1.0]


def test_probationary_period_is_15_percent_capped_at_750_rows() -> None:
    assert nab.probation_rows(20) == 3
    assert nab.probation_rows(4032) == 604
    assert nab.probation_rows(18050) == 750


def test_row_weights_inside_after_and_before_a_window() -> None:
    f = twenty_rows((10, 13))
    assert f.spans == ((10, 13),)
    assert f.probation == 3
    # before any window: the full false-positive cost
    assert list(f.unit[:10]) == [-1.0] * 10
    # inside: sigma(-(right - i + 1) / width) / sigma(-1); the first row earns exactly 1
    assert f.unit[10] == pytest.approx(1.0)
    for i in (11, 12, 13):
        assert f.unit[i] == pytest.approx(sigma(-(13 - i + 1) / 4) / sigma(-1))
    # after: sigma((i - right) / (width - 1)), -1 once more than 3 widths away
    for i in (14, 16, 19):
        assert f.unit[i] == pytest.approx(sigma((i - 13) / 3))
    assert list(f.window) == [-1] * 10 + [0] * 4 + [-1] * 6


def test_overlapping_windows_are_merged_and_empty_ones_dropped() -> None:
    f = twenty_rows((12, 16), (10, 13), (30, 40))
    assert f.spans == ((10, 16),)
    assert f.scored_windows == 1


def test_earliest_detection_counts_and_a_false_positive_after_the_window() -> None:
    f = twenty_rows((10, 13))
    # row 2 lies in the probationary period: it is neither a detection nor a false positive
    s = scores_at({2: 0.5, 11: 0.9, 12: 0.9, 16: 0.9})
    expected = sigma(-0.75) / sigma(-1) + 0.11 * sigma(1.0)
    assert nab.score_file(f, s, 0.9, STANDARD).raw == pytest.approx(expected)
    result = nab.sweep([f], [s], STANDARD)
    assert result.threshold == 0.9  # 0.5 adds nothing; the higher of equal thresholds wins
    assert result.raw == pytest.approx(expected)
    assert (result.null, result.perfect) == (-1.0, 1.0)
    assert result.normalised == pytest.approx(100 * (expected + 1) / 2)
    assert result.normalised == pytest.approx(92.92, abs=0.01)


def test_false_positive_weights_double_in_the_low_fp_profile() -> None:
    f = twenty_rows((10, 13))
    s = scores_at({10: 1.0, 5: 1.0})
    assert nab.score_file(f, s, 1.0, STANDARD).raw == pytest.approx(1.0 - 0.11)
    assert nab.score_file(f, s, 1.0, LOW_FP).raw == pytest.approx(1.0 - 0.22)


def test_a_miss_costs_double_in_the_low_fn_profile() -> None:
    f = twenty_rows((10, 13))
    scored = nab.score_file(f, scores_at({16: 1.0}), 1.0, LOW_FN)
    assert scored.raw == pytest.approx(-2.0 + 0.11 * sigma(1.0))
    assert (scored.detected, scored.missed, scored.false_positives) == (0, 1, 1)


def test_firing_only_outside_windows_scores_below_null_so_the_sweep_stays_silent() -> None:
    f = nab.label_file("long", np.arange(200, dtype=np.int64), [(100, 103)])
    s = np.zeros(200)
    s[[40, 120]] = 1.0  # no window before row 40: it costs the full A_FP
    assert nab.score_file(f, s, 1.0, STANDARD).raw == pytest.approx(
        -1.0 - 0.11 + 0.11 * sigma((120 - 103) / 3)
    )
    # firing at 0 would light up all 170 scored rows: worse than never firing
    result = nab.sweep([f], [s], STANDARD)
    assert result.threshold == math.inf
    assert result.normalised == 0.0


def test_null_and_perfect_detectors_score_0_and_100() -> None:
    t = np.arange(400, dtype=np.int64)
    files = [nab.label_file("a", t, [(200, 210)]), nab.label_file("b", t, [(100, 105), (300, 320)])]
    null = [np.zeros(400), np.zeros(400)]
    perfect = [scores_at({200: 1.0}, 400), scores_at({100: 1.0, 300: 1.0}, 400)]
    for profile in nab.PROFILES.values():
        assert nab.sweep(files, null, profile).normalised == 0.0
        assert nab.sweep(files, perfect, profile).normalised == pytest.approx(100.0)


def test_windows_of_different_files_are_kept_apart() -> None:
    # both files' windows sit on rows 10..13: a detection in one must not credit the other
    files = [twenty_rows((10, 13)), twenty_rows((10, 13))]
    result = nab.sweep(files, [scores_at({10: 1.0}), np.zeros(20)], STANDARD)
    assert result.raw == pytest.approx(1.0 - 1.0)
    assert result.normalised == pytest.approx(50.0)


def test_sweep_equals_the_best_direct_score_over_all_thresholds() -> None:
    rng = np.random.default_rng(7)
    files = [
        nab.label_file("a", np.arange(200, dtype=np.int64), [(60, 75), (150, 170)]),
        nab.label_file("b", np.arange(120, dtype=np.int64), [(90, 100)]),
        nab.label_file("c", np.arange(80, dtype=np.int64), []),
    ]
    # coarse scores so that ties between rows happen
    scores = [np.round(rng.random(f.n_rows), 2) for f in files]
    for profile in nab.PROFILES.values():
        candidates = sorted({float(v) for s in scores for v in s}, reverse=True)
        direct = [
            sum(nab.score_file(f, s, th, profile).raw for f, s in zip(files, scores))
            for th in candidates
        ]
        result = nab.sweep(files, scores, profile)
        best = max(max(direct), result.null)
        assert result.raw == pytest.approx(best)
        if result.threshold != math.inf:
            at = sum(
                nab.score_file(f, s, result.threshold, profile).raw for f, s in zip(files, scores)
            )
            assert at == pytest.approx(result.raw)


def test_window_counts_merge_alarm_rows_into_events() -> None:
    f = twenty_rows((10, 13))
    fired = dict.fromkeys((1, 5, 6, 11, 12, 13, 14, 17), 1.0)  # row 1 is probationary
    counts = nab.window_counts(f, scores_at(fired), 1.0)
    assert (counts.windows, counts.detected) == (1, 1)
    assert (counts.alarm_events, counts.false_alarm_events) == (3, 2)
    assert counts.normal_rows == 13  # rows 3..19 minus the 4 window rows
    assert counts.recall == 1.0
    assert counts.precision == pytest.approx(1 / 3)
    assert counts.f1 == pytest.approx(0.5)
    assert counts.false_alarms_per_1k_rows == pytest.approx(2000 / 13)


def test_window_counts_without_alarms_or_windows() -> None:
    quiet = nab.window_counts(twenty_rows(), np.zeros(20), 0.5)
    assert (quiet.precision, quiet.recall, quiet.f1, quiet.false_alarms_per_1k_rows) == (
        1.0,
        0.0,
        0.0,
        0.0,
    )
    total = quiet + nab.window_counts(twenty_rows((10, 13)), scores_at({5: 1.0}), 0.5)
    assert (total.windows, total.false_alarm_events, total.normal_rows) == (1, 1, 30)


def test_bad_input_is_refused_with_a_clear_error() -> None:
    f = twenty_rows((10, 13))
    with pytest.raises(ValidationError, match="scores for 20 rows"):
        nab.sweep([f], [np.zeros(19)], STANDARD)
    with pytest.raises(ValidationError, match="finite"):
        nab.sweep([f], [scores_at({3: math.nan})], STANDARD)
    with pytest.raises(ValidationError, match="one score array"):
        nab.sweep([f], [], STANDARD)
    with pytest.raises(ValidationError, match="backwards"):
        nab.label_file("x", np.array([0, 2, 1], dtype=np.int64), [])
    with pytest.raises(ValidationError, match="at least one row"):
        nab.label_file("x", np.zeros(0, dtype=np.int64), [])
