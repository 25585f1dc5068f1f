"""Prophet (the optional ``prophet`` extra): a piecewise-linear trend plus Fourier cycles.

The forecaster interface knows positions, not dates, so the series is given to Prophet
one (nominal) day per step, and each usable seasonal period ``m`` becomes a custom
seasonality of ``m`` days with ``min(10, m // 2)`` Fourier terms; Prophet's own yearly,
weekly and daily cycles, which assume real dates, are turned off. Positive series are
modelled on the log scale, like the other models, so the cycle scales with the level
and the bounds stay above zero.

Intervals are Prophet's own: it simulates future trend changes and observation noise
and takes quantiles at the requested level (``interval_width``, set per prediction).
Its simulation draws from numpy's global generator, so the draws are made under a fixed
seed with the caller's generator state restored after. The Stan fit (L-BFGS for the
maximum a posteriori estimate) is seeded too. CmdStan and the compiled model ship in the
wheel: nothing is downloaded. cmdstanpy logs every optimisation at INFO; that is
silenced while fitting.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from analytics_hub.analytics.forecast.base import FloatArray, Forecaster, Prediction
from analytics_hub.analytics.forecast.transform import Transform, choose_transform

#: Prophet's posterior-predictive draws per forecast: its default is 1,000; 500 keep the
#: 95% bounds within about a percent of it at half the cost.
SAMPLES = 500

#: Fourier terms per seasonal period, at most (Prophet's default for a weekly cycle is 3,
#: for a yearly one 10).
MAX_FOURIER = 10

#: Day 0 of the series: Prophet wants dates, the hub gives it one step per day.
_EPOCH = "2000-01-01"


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence cmdstanpy's and Prophet's INFO chatter, restoring both loggers after.

    cmdstanpy resets its logger's level to DEBUG when it first sets itself up, so it is
    disabled instead (which is how its own ``disable_logging`` works); Prophet's logger
    keeps warnings. Prophet 1.5 also calls pandas in ways pandas 3 deprecates (``drop``
    with ``inplace``): those deprecation warnings are about Prophet's code, not the
    caller's, and are dropped while Prophet runs (warnings from elsewhere still surface).
    """
    stan, own = logging.getLogger("cmdstanpy"), logging.getLogger("prophet")
    disabled, level = stan.disabled, own.level
    stan.disabled = True
    own.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            for category in (DeprecationWarning, FutureWarning):
                warnings.filterwarnings("ignore", category=category, module=r"prophet(\.|$)")
            yield
    finally:
        stan.disabled = disabled
        own.setLevel(level)


def _import_prophet() -> Any:
    """The ``Prophet`` class. Its plotting module logs an error when plotly is absent,
    which only matters for interactive plots: that message is dropped."""
    plot_logger = logging.getLogger("prophet.plot")
    disabled = plot_logger.disabled
    plot_logger.disabled = True
    try:
        from prophet import Prophet
    finally:
        plot_logger.disabled = disabled
    return Prophet


class ProphetForecaster(Forecaster):
    """Prophet with one custom seasonality per usable period, on the (log-)series."""

    name = "prophet"

    def __init__(self, *, seed: int = 0, samples: int = SAMPLES) -> None:
        super().__init__()
        self._seed = seed
        self._samples = samples
        self._model: Any = None
        self._transform = Transform(log=False)

    def _fit(self, y: FloatArray) -> None:
        prophet_class = _import_prophet()
        import pandas as pd  # type: ignore[import-untyped]  # loaded with Prophet, not at startup

        self._transform = choose_transform(y)
        frame = pd.DataFrame(
            {
                "ds": pd.Timestamp(_EPOCH) + pd.to_timedelta(np.arange(y.size), unit="D"),
                "y": self._transform.forward(y),
            }
        )
        model = prophet_class(
            yearly_seasonality=False,
            weekly_seasonality=False,
            daily_seasonality=False,
            uncertainty_samples=self._samples,
        )
        for m in self._seasons:
            model.add_seasonality(
                name=f"period_{m}", period=float(m), fourier_order=min(MAX_FOURIER, m // 2)
            )
        with _quiet():
            try:
                self._model = model.fit(frame, seed=self._seed)
            except RuntimeError as exc:  # CmdStan's optimiser failed on this series
                raise ValueError(str(exc)) from exc

    def _predict(self, horizon: int, level: float) -> Prediction:
        import pandas as pd

        model = self._model
        steps = np.arange(self._n, self._n + horizon)
        future = pd.DataFrame({"ds": pd.Timestamp(_EPOCH) + pd.to_timedelta(steps, unit="D")})
        model.interval_width = level
        state = np.random.get_state()
        np.random.seed(self._seed)  # Prophet samples from the global generator
        try:
            with _quiet():
                out = model.predict(future)
        finally:
            np.random.set_state(state)
        inv = self._transform.inverse

        def column(name: str) -> FloatArray:
            return inv(np.asarray(out[name], dtype=np.float64))

        return Prediction(column("yhat"), column("yhat_lower"), column("yhat_upper"), level)


__all__ = ["ProphetForecaster"]
