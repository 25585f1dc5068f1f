"""Forecasting: models behind one interface, an ensemble, and spend arithmetic over forecasts.

Call :func:`forecast` with a numpy array of values, the time of the first value and the
step between values; it returns a dated :class:`Forecast` with a prediction interval and
the model's back-test error. :func:`runway`, :func:`what_if` / :func:`project_cost` and
:func:`crosses` are pure functions over forecasts. Models are created by name from a
:class:`ForecasterRegistry` (:func:`default_registry` has the built-ins). See
``docs/analytics/forecasting.md``.
"""

from analytics_hub.analytics.forecast.backtest import BacktestResult, backtest
from analytics_hub.analytics.forecast.base import (
    Forecaster,
    ForecastFailedError,
    Prediction,
)
from analytics_hub.analytics.forecast.crossing import Crossing, crosses
from analytics_hub.analytics.forecast.ensemble import DEFAULT_MEMBERS, WeightedEnsemble
from analytics_hub.analytics.forecast.registry import ForecasterRegistry, default_registry
from analytics_hub.analytics.forecast.runway import Runway, runway
from analytics_hub.analytics.forecast.service import Forecast, default_seasons, forecast
from analytics_hub.analytics.forecast.whatif import (
    CostProjection,
    Scenario,
    Shift,
    WhatIf,
    project_cost,
    what_if,
)

__all__ = [
    "DEFAULT_MEMBERS",
    "BacktestResult",
    "CostProjection",
    "Crossing",
    "Forecast",
    "ForecastFailedError",
    "Forecaster",
    "ForecasterRegistry",
    "Prediction",
    "Runway",
    "Scenario",
    "Shift",
    "WeightedEnsemble",
    "WhatIf",
    "backtest",
    "crosses",
    "default_registry",
    "default_seasons",
    "forecast",
    "project_cost",
    "runway",
    "what_if",
]
