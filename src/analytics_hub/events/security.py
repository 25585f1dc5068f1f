"""Security payloads (``payload_type: security``, tagged by ``security_type``)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from analytics_hub.events.base import WireStruct
from analytics_hub.events.fields import Id, IdList, Key, Text

_TAG = "security_type"

ThreatKind = Literal[
    "prompt_injection",
    "data_exfiltration",
    "model_poisoning",
    "denial_of_service",
    "unauthorized_access",
    "malicious_input",
    "other",
]
Level = Literal["low", "medium", "high", "critical"]


class OtherKind(WireStruct, kw_only=True):
    """An unlisted kind, as the ecosystem's Rust emitters write ``Other(String)``."""

    other: Id


class Threat(WireStruct, kw_only=True, tag_field=_TAG, tag="threat"):
    """A detected threat."""

    threat_id: Key
    threat_type: ThreatKind | OtherKind
    threat_level: Level
    source_ip: Id | None = None
    target_resource: Id
    attack_vector: Text
    mitigation_status: Literal["detected", "blocked", "mitigated", "investigating", "resolved"]
    indicators_of_compromise: IdList


class Vulnerability(WireStruct, kw_only=True, tag_field=_TAG, tag="vulnerability"):
    """A vulnerability found in a component."""

    vulnerability_id: Key
    cve_id: Id | None = None
    severity_score: Annotated[float, Meta(ge=0, le=10)]
    affected_component: Id
    description: Text
    remediation_status: Literal["identified", "patch_available", "patching", "patched", "accepted"]


class ComplianceViolation(WireStruct, kw_only=True, tag_field=_TAG, tag="compliance_violation"):
    """A breach of a regulation's requirement."""

    violation_id: Key
    regulation: Id
    requirement: Text
    violation_description: Text
    affected_data_types: IdList
    remediation_required: bool


class Auth(WireStruct, kw_only=True, tag_field=_TAG, tag="auth"):
    """An authentication or authorisation event."""

    user_id: Id
    action: Literal[
        "login",
        "logout",
        "access_attempt",
        "permission_denied",
        "token_generated",
        "token_revoked",
    ]
    resource: Id
    success: bool
    failure_reason: Text | None = None


class Privacy(WireStruct, kw_only=True, tag_field=_TAG, tag="privacy"):
    """An operation on personal data."""

    data_type: Id
    operation: Literal[
        "data_access", "data_collection", "data_sharing", "data_deletion", "consent_update"
    ]
    user_consent: bool
    data_subjects: IdList
    purpose: Text


SecurityData = Threat | Vulnerability | ComplianceViolation | Auth | Privacy


class SecurityPayload(WireStruct, kw_only=True, tag_field="payload_type", tag="security"):
    """Security events (LLM-Sentinel and adapters)."""

    data: SecurityData


__all__ = [
    "Auth",
    "ComplianceViolation",
    "OtherKind",
    "Privacy",
    "SecurityData",
    "SecurityPayload",
    "Threat",
    "Vulnerability",
]
