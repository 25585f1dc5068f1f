"""Change detection: EWMA control limits and a two-sided CUSUM.

Both follow the series with exponentially weighted estimates of its mean and variance and
standardise each new value against the estimates from *before* it:

- :class:`EwmaDetector` scores ``|x - mean| / std``: a Shewhart-style limit around a
  moving baseline, quick on spikes and sharp jumps;
- :class:`CusumDetector` accumulates standardised deviations beyond a slack ``k``
  (Page's CUSUM) in both directions, so a small shift that persists adds up to a large
  score even when no single value is unusual; after a detection it restarts from the
  new level.

Updates use the deviation clipped to ``clip`` standard deviations so that one spike does
not inflate the variance and mask what follows. Values go through the same signed square
root as the seasonal detector (see :mod:`.seasonal`). Raw statistics are calibrated per
series by :class:`.TailCalibrator`. Cold start: ``warmup`` rows to learn the baseline,
then the calibrator's warm-up.
"""

from __future__ import annotations

import math

from analytics_hub.analytics.anomaly.base import UnivariateDetector
from analytics_hub.analytics.anomaly.calibrate import TailCalibrator
from analytics_hub.analytics.anomaly.seasonal import Transform, signed_sqrt


class _Baseline:
    """Exponentially weighted mean and variance, updated with clipped deviations."""

    def __init__(self, alpha: float, clip: float) -> None:
        self.alpha = alpha
        self.clip = clip
        self.mean = 0.0
        self.var = 0.0
        self.n = 0

    def std(self) -> float:
        # a flat series has no spread: measure departures from it against its level
        return max(math.sqrt(self.var), 1e-3 * abs(self.mean), 1e-9)

    def z(self, x: float) -> float:
        """The standardised deviation of ``x`` from the current estimates."""
        return (x - self.mean) / self.std()

    def learn(self, x: float) -> None:
        if self.n == 0:
            self.mean = x
        else:
            d = x - self.mean
            if self.n > 1:
                limit = self.clip * self.std()
                d = max(-limit, min(limit, d))
            self.mean += self.alpha * d
            self.var = (1.0 - self.alpha) * (self.var + self.alpha * d * d)
        self.n += 1

    def restart(self, x: float) -> None:
        """Jump to a new level, keeping the spread."""
        self.mean = x


class EwmaDetector(UnivariateDetector):
    """Flags values far from an exponentially weighted moving baseline."""

    name = "ewma"

    def __init__(
        self,
        *,
        alpha: float = 0.05,
        clip: float = 4.0,
        warmup: int = 50,
        transform: Transform = "sqrt",
        calibrator: TailCalibrator | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 < alpha < 1.0 or warmup < 2:
            raise ValueError("alpha must be in (0, 1) and warmup at least 2")
        self.warmup = warmup
        self.transform: Transform = transform
        self.calibrator = calibrator or TailCalibrator()
        self._base = _Baseline(alpha, clip)

    def _score_value(self, timestamp: float, value: float) -> float:
        x = signed_sqrt(value) if self.transform == "sqrt" else value
        ready = self._base.n >= self.warmup
        raw = abs(self._base.z(x)) if ready else 0.0
        self._base.learn(x)
        return self.calibrator.update(raw) if ready else 0.0


class CusumDetector(UnivariateDetector):
    """Flags persistent shifts of the level, up or down (two-sided CUSUM)."""

    name = "cusum"

    def __init__(
        self,
        *,
        alpha: float = 0.01,
        slack: float = 0.5,
        restart_at: float = 10.0,
        clip: float = 4.0,
        warmup: int = 100,
        transform: Transform = "sqrt",
        calibrator: TailCalibrator | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 < alpha < 1.0 or slack < 0 or restart_at <= 0 or warmup < 2:
            raise ValueError("alpha in (0, 1), slack >= 0, restart_at > 0, warmup >= 2")
        self.slack = slack
        self.restart_at = restart_at
        self.clip = clip
        self.warmup = warmup
        self.transform: Transform = transform
        self.calibrator = calibrator or TailCalibrator()
        self._base = _Baseline(alpha, clip)
        self._up = 0.0
        self._down = 0.0

    def _score_value(self, timestamp: float, value: float) -> float:
        x = signed_sqrt(value) if self.transform == "sqrt" else value
        if self._base.n < self.warmup:
            self._base.learn(x)
            return 0.0
        # a single wild value moves the sums by at most clip: CUSUM is for shifts
        z = max(-self.clip, min(self.clip, self._base.z(x)))
        self._up = max(0.0, self._up + z - self.slack)
        self._down = max(0.0, self._down - z - self.slack)
        raw = max(self._up, self._down)
        if raw > self.restart_at:
            self._up = self._down = 0.0
            self._base.restart(x)
        else:
            self._base.learn(x)
        return self.calibrator.update(raw)


__all__ = ["CusumDetector", "EwmaDetector"]
