"""Anomaly detection: streaming detectors, calibration, a voting ensemble, NAB scoring.

Each detector scores a series row by row without looking ahead and answers a calibrated
probability in [0, 1] (0 until it has a baseline). The default ensemble votes over the
members chosen by measurement on the Numenta Anomaly Benchmark and gates the result so
that an incident alarms once. See docs/analytics/anomaly-detection.md.
"""

from analytics_hub.analytics.anomaly.alarm import DEFAULT_LEVEL, AlarmGate, AlarmPolicy
from analytics_hub.analytics.anomaly.base import (
    Detector,
    Observation,
    StreamingDetector,
    UnivariateDetector,
)
from analytics_hub.analytics.anomaly.calibrate import TailCalibrator
from analytics_hub.analytics.anomaly.change import CusumDetector, EwmaDetector
from analytics_hub.analytics.anomaly.context import ContextDetector
from analytics_hub.analytics.anomaly.ensemble import Ensemble, Vote, combine
from analytics_hub.analytics.anomaly.forest import ForestDetector
from analytics_hub.analytics.anomaly.registry import (
    DEFAULT_MEMBERS,
    DetectorRegistry,
    MemberSpec,
    builtin_registry,
    default_ensemble,
)
from analytics_hub.analytics.anomaly.seasonal import SeasonalDetector

__all__ = [
    "DEFAULT_LEVEL",
    "DEFAULT_MEMBERS",
    "AlarmGate",
    "AlarmPolicy",
    "ContextDetector",
    "CusumDetector",
    "Detector",
    "DetectorRegistry",
    "Ensemble",
    "EwmaDetector",
    "ForestDetector",
    "MemberSpec",
    "Observation",
    "SeasonalDetector",
    "StreamingDetector",
    "TailCalibrator",
    "UnivariateDetector",
    "Vote",
    "builtin_registry",
    "combine",
    "default_ensemble",
]
