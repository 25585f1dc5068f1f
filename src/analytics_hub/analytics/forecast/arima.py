"""ARIMA / seasonal ARIMA with statsmodels' SARIMAX, kept fast by a fixed order.

The orders are fixed rather than searched: SARIMA(1,0,1)(0,1,1)m on the log scale, the
"airline-like" model that suits a strong daily cycle, and ARIMA(1,1,1) without a season.
A search multiplies the cost by the number of candidates, and on the M4 hourly training
windows the fixed model was as accurate as the variants tried (see
``docs/decisions/0009-forecast-ensemble.md``).

Speed: the seasonal difference is taken before the likelihood is evaluated
(``simple_differencing``), which keeps the state vector short; a full seasonal state space
is ten times slower on hourly data. The forecasts of the differenced series are then
integrated back here, and the interval comes from the psi-weights of the full model
(the textbook Box-Jenkins forecast variance), so it accounts for the integration too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analytics_hub.analytics.forecast.base import FloatArray, Forecaster, Prediction
from analytics_hub.analytics.forecast.intervals import normal_quantile
from analytics_hub.analytics.forecast.quiet import statsmodels_quiet
from analytics_hub.analytics.forecast.transform import Transform, TransformMode, choose_transform

#: A seasonal MA term at lag m puts m states in the Kalman filter; above this the fit is
#: too slow for an interactive answer, so longer seasons get the seasonal difference only.
MAX_SEASONAL_MA = 48

Order = tuple[int, int, int]


class ARIMA(Forecaster):
    """SARIMA(p,d,q)(0,D,Q)m when the series has a usable season, ARIMA otherwise."""

    name = "arima"

    def __init__(
        self,
        *,
        order: Order = (1, 0, 1),
        seasonal: tuple[int, int] = (1, 1),
        nonseasonal_order: Order = (1, 1, 1),
        transform: TransformMode = "auto",
    ) -> None:
        """``seasonal`` is (D, Q): seasonal differences and seasonal MA terms."""
        super().__init__()
        self._order = order
        self._seasonal = seasonal
        self._nonseasonal_order = nonseasonal_order
        self._mode: TransformMode = transform
        self._transform = Transform(log=False)
        self._z: FloatArray = np.empty(0)
        self._result: Any = None
        self._integration: FloatArray = np.ones(1)

    def _fit(self, y: FloatArray) -> None:
        self._transform = choose_transform(y, self._mode)
        self._z = self._transform.forward(y)
        m = self.season
        if m > 1:
            order = self._order
            big_d, big_q = self._seasonal
            big_q = big_q if m <= MAX_SEASONAL_MA else 0
            seasonal_order = (0, big_d, big_q, m)
        else:
            order, seasonal_order, big_d = self._nonseasonal_order, (0, 0, 0, 0), 0
        # The polynomial (1 - B)^d (1 - B^m)^D that simple differencing removed.
        integration = np.ones(1)
        for _ in range(order[1]):
            integration = np.convolve(integration, [1.0, -1.0])
        for _ in range(big_d):
            integration = np.convolve(integration, np.r_[1.0, np.zeros(m - 1), -1.0])
        self._integration = integration
        if self._z.size <= integration.size + sum(order) + 2:
            raise ValueError(f"{self._z.size} points are too few for ARIMA{order}")
        from statsmodels.tsa.statespace.sarimax import SARIMAX  # loaded at the first fit

        model = SARIMAX(
            self._z,
            order=order,
            seasonal_order=seasonal_order,
            simple_differencing=True,
            concentrate_scale=True,
        )
        with statsmodels_quiet():
            self._result = model.fit(disp=False)

    def _predict(self, horizon: int, level: float) -> Prediction:
        from statsmodels.tsa.arima_process import arma2ma

        res = self._result
        with statsmodels_quiet():
            diffed = np.asarray(res.forecast(horizon), dtype=np.float64)
        point = _integrate(self._z, diffed, self._integration)
        # psi-weights of the whole model, differencing included: the forecast error of
        # step j has variance sigma^2 * (psi_0^2 + ... + psi_{j-1}^2).
        ar = np.convolve(
            np.convolve(res.polynomial_ar, res.polynomial_seasonal_ar), self._integration
        )
        ma = np.convolve(res.polynomial_ma, res.polynomial_seasonal_ma)
        psi = arma2ma(ar, ma, lags=horizon)
        sd = np.sqrt(float(res.scale) * np.cumsum(psi**2))
        half = normal_quantile(level) * sd
        inv = self._transform.inverse
        return Prediction(inv(point), inv(point - half), inv(point + half), level)


def _integrate(z: FloatArray, diffed: FloatArray, integration: FloatArray) -> FloatArray:
    """Undo differencing: ``z_t = w_t - sum_{k>=1} a_k z_{t-k}`` with ``a`` the polynomial."""
    k = integration.size - 1
    extended = np.concatenate([z, np.zeros(diffed.size)])
    n = z.size
    for j in range(diffed.size):
        t = n + j
        past = extended[t - k : t][::-1] if k else np.empty(0)
        extended[t] = diffed[j] - float(np.dot(integration[1:], past))
    return extended[n:]
