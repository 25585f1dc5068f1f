"""Detectors by name: built-ins register through the same hook a plugin uses.

Nothing registers on import. :func:`builtin_registry` returns a fresh registry holding
the built-in detectors; a plugin adds its own with :meth:`DetectorRegistry.register`,
and :func:`default_ensemble` builds the measured default ensemble from a registry.

The deep detectors (``lstm_residual``, ``autoencoder``) are built-ins of the optional
``deep`` extra: they are registered only where PyTorch is installed, and torch itself is
imported only when one of them first fits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analytics_hub.analytics.anomaly.alarm import AlarmGate, AlarmPolicy
from analytics_hub.analytics.anomaly.base import Detector
from analytics_hub.analytics.anomaly.change import CusumDetector, EwmaDetector
from analytics_hub.analytics.anomaly.context import ContextDetector
from analytics_hub.analytics.anomaly.deep import AutoencoderDetector, LstmResidualDetector
from analytics_hub.analytics.anomaly.ensemble import Ensemble, Vote
from analytics_hub.analytics.anomaly.forest import ForestDetector
from analytics_hub.analytics.anomaly.seasonal import SeasonalDetector
from analytics_hub.analytics.neural import torch_available
from analytics_hub.errors import ConflictError, NotFoundError

#: a callable that builds a fresh detector from keyword parameters
DetectorFactory = Callable[..., Detector]


@dataclass(frozen=True)
class MemberSpec:
    """One member of an ensemble: a registered detector, its parameters, its vote weight
    and how much it damps the vote where it finds a row ordinary (1: not at all; see
    :mod:`.ensemble`)."""

    name: str
    weight: float = 1.0
    params: Mapping[str, Any] = field(default_factory=dict)
    damping: float = 1.0

    @property
    def label(self) -> str:
        """The name, with the parameters that differ from the detector's defaults."""
        if not self.params:
            return self.name
        return f"{self.name}[{','.join(f'{k}={v}' for k, v in sorted(self.params.items()))}]"


#: the members of the default ensemble; chosen by measurement on NAB
#: (docs/decisions/0008-anomaly-ensemble.md)
DEFAULT_MEMBERS: tuple[MemberSpec, ...] = (
    MemberSpec("seasonal", 2.0),
    MemberSpec("forest", 1.0, {"extrapolate": False}),
    MemberSpec("context", 2.0, damping=0.5),
)
DEFAULT_VOTE: Vote = "mean"
DEFAULT_QUIET_ROWS = 200


class DetectorRegistry:
    """A name -> factory map of detectors."""

    def __init__(self) -> None:
        self._factories: dict[str, DetectorFactory] = {}

    def register(self, name: str, factory: DetectorFactory, *, replace: bool = False) -> None:
        """Make ``factory`` available as ``name``; a taken name needs ``replace=True``."""
        if name in self._factories and not replace:
            raise ConflictError(f"a detector named {name!r} is already registered")
        self._factories[name] = factory

    def create(self, name: str, **params: Any) -> Detector:
        """A new detector of that name, built with ``params``."""
        factory = self._factories.get(name)
        if factory is None:
            raise NotFoundError(f"no detector named {name!r}; known: {', '.join(self.names())}")
        return factory(**params)

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories


def builtin_registry() -> DetectorRegistry:
    """A registry holding the built-in detectors."""
    registry = DetectorRegistry()
    registry.register(SeasonalDetector.name, SeasonalDetector)
    registry.register(EwmaDetector.name, EwmaDetector)
    registry.register(CusumDetector.name, CusumDetector)
    registry.register(ForestDetector.name, ForestDetector)
    registry.register(ContextDetector.name, ContextDetector)
    if torch_available():
        registry.register(LstmResidualDetector.name, LstmResidualDetector)
        registry.register(AutoencoderDetector.name, AutoencoderDetector)
    return registry


def default_ensemble(
    registry: DetectorRegistry | None = None,
    *,
    members: tuple[MemberSpec, ...] = DEFAULT_MEMBERS,
    vote: Vote = DEFAULT_VOTE,
    policy: AlarmPolicy | None = None,
) -> Ensemble:
    """A fresh ensemble for one series: by default the measured default members."""
    registry = registry or builtin_registry()
    return Ensemble(
        [registry.create(m.name, **m.params) for m in members],
        vote=vote,
        weights=[m.weight for m in members],
        damping=[m.damping for m in members],
        gate=AlarmGate(DEFAULT_QUIET_ROWS),
        policy=policy,
    )


__all__ = [
    "DEFAULT_MEMBERS",
    "DEFAULT_QUIET_ROWS",
    "DEFAULT_VOTE",
    "DetectorFactory",
    "DetectorRegistry",
    "MemberSpec",
    "builtin_registry",
    "default_ensemble",
]
