"""The Isolation Forest detector on rows of several metrics."""

from __future__ import annotations

import numpy as np
import pytest

from analytics_hub.analytics.anomaly import ForestDetector
from analytics_hub.analytics.anomaly.forest import DIRECT_ROWS, window_features
from analytics_hub.errors import ValidationError


def rollup_rows(seed: int, n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Minute rows of (p95 latency, error rate, request count) around steady levels."""
    rng = np.random.default_rng(seed)
    t = 1e9 + 60.0 * np.arange(n)
    rows = np.stack(
        (
            200 + rng.normal(0, 5, n),
            0.01 + rng.normal(0, 0.002, n),
            1000 + rng.normal(0, 30, n),
        ),
        axis=1,
    )
    return t, rows


def small(**params: object) -> ForestDetector:
    base: dict[str, object] = {"train_rows": 400, "min_train_rows": 200, "refit_every": 200}
    return ForestDetector(**{**base, **params})  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(4))
def test_one_metric_going_wrong_among_several_is_flagged(seed: int) -> None:
    t, rows = rollup_rows(seed)
    rows[900, 1] = 0.03  # the error rate triples; latency and volume look normal
    scores = small().score_many(t, rows)
    assert scores[900] > 1 - 1e-6
    assert scores[900] >= scores[np.arange(t.size) != 900].max()


def test_without_extrapolation_the_forest_cannot_rank_beyond_its_training_range() -> None:
    # the reason for ``extrapolate``: splits lie inside the training range
    t, rows = rollup_rows(0)
    rows[900, 1] = 0.03
    plain = small(extrapolate=False).score_many(t, rows)
    assert plain[900] < 1 - 1e-6


def test_rows_of_several_metrics_score_the_same_one_by_one_and_in_a_batch() -> None:
    t, rows = rollup_rows(2, n=500)
    batch = small(refit_every=100, trees=10).score_many(t, rows)
    d = small(refit_every=100, trees=10)
    singles = np.array([d.update(float(a), r) for a, r in zip(t, rows, strict=True)])
    np.testing.assert_array_equal(singles, batch)
    assert batch[:200].max() == 0.0  # nothing is scored before the first fit
    assert batch[250:].max() > 0.0


def test_the_number_of_metrics_may_not_change() -> None:
    d = small()
    d.update(1.0, [1.0, 2.0])
    with pytest.raises(ValidationError, match="2"):
        d.update(2.0, [1.0, 2.0, 3.0])


def test_window_features_per_metric() -> None:
    w = np.array([[[1.0, 10.0], [3.0, 10.0], [2.0, 10.0], [8.0, 40.0]]])  # 1 row, window 3
    f = window_features(w)
    # value, change, distance from the window median, spread (per metric)
    np.testing.assert_allclose(f[0, :2], [8.0, 40.0])
    np.testing.assert_allclose(f[0, 2:4], [6.0, 30.0])
    np.testing.assert_allclose(f[0, 4:6], [6.0, 30.0])
    np.testing.assert_allclose(f[0, 6:], np.std(w[0], axis=0))


@pytest.mark.parametrize(("rows", "window"), [(1, 12), (7, 12), (300, 12), (5, 5), (40, 2)])
def test_window_features_are_numpys_median_and_std_bit_for_bit(rows: int, window: int) -> None:
    rng = np.random.default_rng(rows + window)
    for w in (
        rng.normal(size=(rows, window + 1, 5)) * 1e3,
        rng.integers(0, 3, (rows, window + 1, 5)).astype(np.float64),  # ties
    ):
        f = window_features(w)
        np.testing.assert_array_equal(f[:, 10:15], w[:, -1, :] - np.median(w[:, :-1, :], axis=1))
        np.testing.assert_array_equal(f[:, 15:], np.std(w, axis=1))


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        ForestDetector(window=1)


def test_scoring_a_few_rows_directly_matches_sklearn_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    detector = small()
    detector.score_many(np.arange(400.0), rng.normal(size=(400, 3)))
    model, walk = detector._model, detector._walk
    assert model is not None
    assert walk is not None
    for scale in (0.5, 1.0, 4.0, 50.0):
        feats = rng.normal(scale=scale, size=(DIRECT_ROWS, 12))
        direct = walk.scores(feats)
        assert direct is not None
        assert np.array_equal(direct, -model.score_samples(feats))


class FitLog(ForestDetector):
    """Records after how many rows each fit happened."""

    def __init__(self, **params: object) -> None:
        base: dict[str, object] = {"train_rows": 400, "min_train_rows": 200, "refit_every": 200}
        super().__init__(**{**base, "trees": 10, **params})  # type: ignore[arg-type]
        self.rows = 0
        self.fits: list[int] = []

    def _score_block(self, rows: np.ndarray) -> np.ndarray:
        self.rows += rows.shape[0]  # a block ends where a fit is due
        return super()._score_block(rows)

    def _fit(self) -> None:
        self.fits.append(self.rows)
        super()._fit()


def test_a_staggered_forest_fits_first_later_and_refits_on_its_own_rows() -> None:
    t, rows = rollup_rows(3, n=900)
    plain, later = FitLog(), FitLog()
    later.stagger(50)
    plain.score_many(t, rows)
    later.score_many(t, rows)
    # the first 12 rows only fill the window: the first fit after 212 rows, then every 200
    assert plain.fits == [212, 412, 612, 812]
    assert later.fits == [262, 462, 662, 862]


def test_staggering_takes_the_phase_modulo_the_refit_interval_and_only_before_rows() -> None:
    d = FitLog()
    d.stagger(200 + 30)  # refit_every is 200: 30 rows later
    t, rows = rollup_rows(4, n=300)
    for a, r in zip(t, rows, strict=True):  # one by one, as the stream feeds it
        d.update(float(a), r)
    assert d.fits == [242]
    with pytest.raises(ValueError, match="before its first row"):
        d.stagger(1)


def test_the_training_rows_are_the_last_ones_oldest_first_across_wraparounds() -> None:
    from collections import deque

    from analytics_hub.analytics.anomaly.forest import _RowRing

    ring, reference = _RowRing(7), deque(maxlen=7)
    assert ring.rows().size == 0
    value = 0
    for n in (1, 3, 2, 5, 1, 9, 7, 2, 20, 1):
        block = np.arange(value, value + n, dtype=np.float64)[:, None] * [1.0, -1.0]
        value += n
        ring.extend(block)
        reference.extend(block)
        assert len(ring) == len(reference)
        np.testing.assert_array_equal(ring.rows(), np.array(reference))
