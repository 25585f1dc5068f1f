"""Exponential smoothing (ETS, Holt-Winters) with statsmodels' state-space ETS model.

Additive errors, a damped additive trend and additive seasonality. A positive series is fit
both as it is and on the log scale (where level and season act multiplicatively), and the
fit that makes the observed data more likely is kept: the log-scale likelihood is
corrected by the Jacobian of the log, ``-sum(log y)``, so the two are comparable. Neither
scale is right for every series: a cycle of constant amplitude on a rising level defeats
the log scale (the fit degenerates to a random walk), a cycle that grows with the level
defeats the raw one. Additive-error models have closed-form prediction intervals in
statsmodels, so the intervals are the model's own and deterministic (no simulation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analytics_hub.analytics.forecast.base import FloatArray, Forecaster, Prediction
from analytics_hub.analytics.forecast.quiet import statsmodels_quiet
from analytics_hub.analytics.forecast.transform import Transform, TransformMode, choose_transform

#: Every seasonal period adds as many initial states to estimate; beyond this the model
#: is slow and badly determined, so longer periods are left to the decomposition models.
MAX_SEASON = 60


class ETS(Forecaster):
    """ETS(A, Ad, A) on the (log-)series; ETS(A, Ad, N) when there is no usable season."""

    name = "ets"

    def __init__(self, *, damped: bool = True, transform: TransformMode = "auto") -> None:
        super().__init__()
        self._damped = damped
        self._mode: TransformMode = transform
        self._transform = Transform(log=False)
        self._result: Any = None

    def _fit(self, y: FloatArray) -> None:
        candidates = [choose_transform(y, self._mode)]
        if self._mode == "auto" and candidates[0].log:
            candidates.append(Transform(log=False))
        best, self._result = -np.inf, None
        for transform in candidates:
            z = transform.forward(y)
            result = self._fit_scale(z)
            # Log-likelihood of y itself: the density of log y times |d log y / dy| = 1/y.
            loglik = float(result.llf) - (float(z.sum()) if transform.log else 0.0)
            if self._result is None or loglik > best:
                best, self._result, self._transform = loglik, result, transform

    def _fit_scale(self, z: FloatArray) -> Any:
        m = self.season if 1 < self.season <= MAX_SEASON else 1
        # statsmodels' ETS prediction needs a pandas index (it fails on a bare ndarray).
        # Loaded at the first fit: pandas and statsmodels cost a second at startup.
        import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        model = ETSModel(
            pd.Series(z),
            error="add",
            trend="add",
            damped_trend=self._damped,
            seasonal="add" if m > 1 else None,
            seasonal_periods=m if m > 1 else None,
        )
        with statsmodels_quiet():
            return model.fit(disp=False)

    def _predict(self, horizon: int, level: float) -> Prediction:
        n = int(self._result.nobs)
        with statsmodels_quiet():
            frame = self._result.get_prediction(start=n, end=n + horizon - 1).summary_frame(
                alpha=1.0 - level
            )
        inv = self._transform.inverse
        return Prediction(
            inv(np.asarray(frame["mean"], dtype=np.float64)),
            inv(np.asarray(frame["pi_lower"], dtype=np.float64)),
            inv(np.asarray(frame["pi_upper"], dtype=np.float64)),
            level,
        )
