"""EWMA catches spikes; CUSUM catches small persistent shifts that EWMA misses."""

from __future__ import annotations

import numpy as np
import pytest

from analytics_hub.analytics.anomaly import CusumDetector, EwmaDetector


def flat_noise(seed: int, n: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return 1e9 + 60.0 * np.arange(n), 10.0 + rng.normal(0, 1, n)


@pytest.mark.parametrize("seed", range(4))
def test_cusum_accumulates_a_small_shift_that_ewma_does_not_see(seed: int) -> None:
    t, v = flat_noise(seed)
    v[1000:] += 1.5  # one and a half sigmas: no single row is unusual
    cusum = CusumDetector().score_many(t, v)
    ewma = EwmaDetector().score_many(t, v)
    after = slice(1000, 1030)
    assert cusum[after].max() > 0.999
    assert ewma[after].max() < 0.995


@pytest.mark.parametrize("seed", range(4))
def test_ewma_flags_a_spike_at_once(seed: int) -> None:
    t, v = flat_noise(seed)
    v[1200] += 12
    scores = EwmaDetector().score_many(t, v)
    assert int(np.argmax(scores)) == 1200
    assert scores[1200] > 1 - 1e-6


def test_a_spike_does_not_blind_ewma_to_the_next_one() -> None:
    # the variance is updated with clipped deviations, so one spike cannot mask another
    t, v = flat_noise(9)
    v[1100] += 30
    v[1110] += 12
    scores = EwmaDetector().score_many(t, v)
    assert scores[1110] > 1 - 1e-4


def test_cusum_restarts_after_a_detection() -> None:
    t, v = flat_noise(5)
    v[1000:] += 3.0
    d = CusumDetector(restart_at=10.0)
    d.score_many(t, v)
    # the new level became the baseline: the sums are back near zero
    assert max(d._up, d._down) < 10.0
    assert d._base.mean == pytest.approx(13.0**0.5, abs=0.2)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="alpha"):
        EwmaDetector(alpha=1.5)
    with pytest.raises(ValueError, match="alpha"):
        CusumDetector(alpha=0)
