"""Realistic demo traffic: several tenants, seasonality, errors, and three incidents.

:class:`DemoGenerator` is pure and seeded (``backfill`` for history, ``live`` for one
tick); :class:`DemoRunner` sends its events through a client; :func:`describe_incidents`
says where the injected incidents are. See ``docs/demo.md``.
"""

from analytics_hub.demo.catalog import DEFAULT_TENANTS, MODELS, AppSpec, ModelSpec, TenantSpec
from analytics_hub.demo.generator import DemoGenerator, default_window
from analytics_hub.demo.incidents import Incident, describe_incidents
from analytics_hub.demo.runner import DemoRunner, EventSink, RunStats

__all__ = [
    "DEFAULT_TENANTS",
    "MODELS",
    "AppSpec",
    "DemoGenerator",
    "DemoRunner",
    "EventSink",
    "Incident",
    "ModelSpec",
    "RunStats",
    "TenantSpec",
    "default_window",
    "describe_incidents",
]
