"""Governance payloads (``payload_type: governance``, tagged by ``governance_type``)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from analytics_hub.events.base import WireStruct
from analytics_hub.events.fields import Fraction, Id, IdList, JsonMap, Key, Text
from analytics_hub.events.limits import DEFAULT_LIMITS

_TAG = "governance_type"


class PolicyViolation(WireStruct, kw_only=True, tag_field=_TAG, tag="policy_violation"):
    """A policy was violated."""

    policy_id: Key
    policy_name: Id
    violation_description: Text
    violated_rules: IdList
    resource_id: Id
    user_id: Id | None = None
    severity: Literal["low", "medium", "high", "critical"]
    auto_remediated: bool


class AuditTrail(WireStruct, kw_only=True, tag_field=_TAG, tag="audit_trail"):
    """An audited action; ``changes`` maps a field to any JSON value."""

    action: Id
    actor: Id
    resource_type: Id
    resource_id: Id
    changes: JsonMap
    ip_address: Id | None = None
    user_agent: Text | None = None


class Finding(WireStruct, kw_only=True):
    """The result of checking one control."""

    control_id: Id
    status: Literal["pass", "fail", "not_applicable", "manual"]
    description: Text
    evidence: Text | None = None


class ComplianceCheck(WireStruct, kw_only=True, tag_field=_TAG, tag="compliance_check"):
    """A compliance framework check (SOC2, GDPR, HIPAA, ...)."""

    check_id: Key
    framework: Id
    controls_checked: IdList
    passed: bool
    score: Fraction
    findings: Annotated[
        list[Finding],
        Meta(max_length=DEFAULT_LIMITS.max_list_items, extra={"limit": "max_list_items"}),
    ]


class DataLineage(WireStruct, kw_only=True, tag_field=_TAG, tag="data_lineage"):
    """An operation on a data asset and where the data went."""

    data_asset_id: Key
    operation: Literal["create", "read", "update", "delete", "transform", "aggregate"]
    source: Id | None = None
    destination: Id | None = None
    transformation: Text | None = None
    lineage_path: IdList


GovernanceData = PolicyViolation | AuditTrail | ComplianceCheck | DataLineage


class GovernancePayload(WireStruct, kw_only=True, tag_field="payload_type", tag="governance"):
    """Governance events (governance dashboard, policy engine and adapters)."""

    data: GovernanceData


__all__ = [
    "AuditTrail",
    "ComplianceCheck",
    "DataLineage",
    "Finding",
    "GovernanceData",
    "GovernancePayload",
    "PolicyViolation",
]
