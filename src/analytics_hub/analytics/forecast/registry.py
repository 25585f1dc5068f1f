"""Forecasters by name: built-ins are registered through the same call a plugin uses.

Nothing registers itself on import; :func:`default_registry` builds a registry explicitly
(so tests and the application get the same, order-independent set). Models that need an
optional dependency (Prophet, the ``prophet`` extra; the LSTM, the ``deep`` extra) are
registered when that dependency is installed; where it is not, they hold a named slot
that explains what is missing instead of a stand-in model. Their libraries are imported
only when such a model first fits.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence

from analytics_hub.analytics.forecast.arima import ARIMA
from analytics_hub.analytics.forecast.base import Forecaster
from analytics_hub.analytics.forecast.decomposed import MSTLARIMA, MSTLETS
from analytics_hub.analytics.forecast.ensemble import DEFAULT_MEMBERS, WeightedEnsemble
from analytics_hub.analytics.forecast.ets import ETS
from analytics_hub.analytics.forecast.lstm import LSTMForecaster
from analytics_hub.analytics.forecast.naive import Naive2, SeasonalNaive
from analytics_hub.analytics.forecast.prophet import ProphetForecaster
from analytics_hub.analytics.forecast.theta import Theta
from analytics_hub.errors import ValidationError

Factory = Callable[[], Forecaster]

#: Optional models and what installing them takes. A plugin that provides one registers
#: it under this name, which replaces the slot.
OPTIONAL_MODELS = {
    "prophet": "needs the optional 'prophet' dependency, which is not installed",
    "lstm": "needs the optional 'deep' extra (PyTorch), which is not installed",
}

#: The optional models, their classes and the package each needs.
_OPTIONAL: dict[str, tuple[Factory, str]] = {
    "prophet": (ProphetForecaster, "prophet"),
    "lstm": (LSTMForecaster, "torch"),
}


def installed(package: str) -> bool:
    """Whether ``package`` is installed (looked up, not imported: torch takes seconds)."""
    return importlib.util.find_spec(package) is not None


class ForecasterRegistry:
    """A name -> factory map of forecasters, with slots for models not installed."""

    def __init__(self) -> None:
        self._factories: dict[str, Factory] = {}
        self._missing: dict[str, str] = {}

    def register(self, name: str, factory: Factory, *, replace: bool = False) -> None:
        """Make ``factory`` (a callable returning a fresh model) available as ``name``."""
        if name in self._factories and not replace:
            raise ValueError(f"a forecaster named {name!r} is already registered")
        self._factories[name] = factory
        self._missing.pop(name, None)

    def reserve(self, name: str, reason: str) -> None:
        """Name a model that is not available in this install, and say why."""
        if name not in self._factories:
            self._missing[name] = reason

    def names(self) -> list[str]:
        """The models that can be created, sorted."""
        return sorted(self._factories)

    def unavailable(self) -> dict[str, str]:
        """Reserved model names and why each cannot be created here."""
        return dict(self._missing)

    def create(self, name: str) -> Forecaster:
        """A fresh, unfitted model; a :class:`ValidationError` for unknown or missing ones."""
        factory = self._factories.get(name)
        if factory is not None:
            return factory()
        if name in self._missing:
            raise ValidationError(
                f"the {name!r} forecaster is not available: {self._missing[name]}"
            )
        raise ValidationError(f"unknown forecaster {name!r}; available: {', '.join(self.names())}")

    def ensemble(
        self,
        members: Sequence[str] = DEFAULT_MEMBERS,
        *,
        holdout: int | None = None,
        power: float = 2.0,
    ) -> WeightedEnsemble:
        """An ensemble of registered members (validated now, not at fit time)."""
        for name in members:
            if name not in self._factories:
                self.create(name)  # raises the explanatory error
        factories = {name: self._factories[name] for name in members}
        return WeightedEnsemble(factories, holdout=holdout, power=power)


def default_registry() -> ForecasterRegistry:
    """The built-in forecasters, the default ensemble, and the optional models (or their
    slots, where their dependency is not installed)."""
    registry = ForecasterRegistry()
    for model in (SeasonalNaive, Naive2, ETS, ARIMA, Theta, MSTLETS, MSTLARIMA):
        registry.register(model.name, model)
    registry.register(WeightedEnsemble.name, registry.ensemble)
    for name, reason in OPTIONAL_MODELS.items():
        factory, package = _OPTIONAL[name]
        if installed(package):
            registry.register(name, factory)
        else:
            registry.reserve(name, reason)
    return registry
