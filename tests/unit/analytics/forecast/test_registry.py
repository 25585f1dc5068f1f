"""Forecasters are found by name; optional models have an honest empty slot."""

from __future__ import annotations

import numpy as np
import pytest

from analytics_hub.analytics.forecast import registry as registry_module
from analytics_hub.analytics.forecast.ensemble import DEFAULT_MEMBERS, WeightedEnsemble
from analytics_hub.analytics.forecast.naive import SeasonalNaive
from analytics_hub.analytics.forecast.registry import ForecasterRegistry, default_registry
from analytics_hub.errors import ValidationError


def test_builtins_are_registered_by_name() -> None:
    registry = default_registry()
    expected = {"seasonal_naive", "naive2", "ets", "arima", "theta", "mstl_ets", "mstl_arima"}
    # the optional models are built-ins too, where their library is installed
    pairs = (("lstm", "torch"), ("prophet", "prophet"))
    optional = {name for name, package in pairs if registry_module.installed(package)}
    assert expected | optional | {"ensemble"} == set(registry.names())
    for name in expected | optional:
        assert registry.create(name).name == name


def test_default_ensemble_uses_the_default_members() -> None:
    ensemble = default_registry().create("ensemble")
    assert isinstance(ensemble, WeightedEnsemble)
    ensemble.fit(np.sin(np.arange(200) / 3.0) + 5.0, 12)
    assert set(ensemble.weights) == set(DEFAULT_MEMBERS)


@pytest.mark.parametrize("name", ["prophet", "lstm"])
def test_optional_models_explain_that_they_are_not_installed(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as on an install without the extras, whether or not this one has them
    monkeypatch.setattr(registry_module, "installed", lambda package: False)
    registry = default_registry()
    assert name in registry.unavailable()
    assert name not in registry.names()
    with pytest.raises(ValidationError, match="not available"):
        registry.create(name)


def test_a_plugin_fills_a_reserved_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "installed", lambda package: False)
    registry = default_registry()
    registry.register("prophet", SeasonalNaive)
    assert "prophet" in registry.names()
    assert "prophet" not in registry.unavailable()


def test_unknown_and_duplicate_names_are_errors() -> None:
    registry = ForecasterRegistry()
    registry.register("x", SeasonalNaive)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("x", SeasonalNaive)
    with pytest.raises(ValidationError, match="unknown forecaster 'y'"):
        registry.create("y")
    with pytest.raises(ValidationError, match="unknown forecaster"):
        registry.ensemble(["x", "y"])
