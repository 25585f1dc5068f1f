"""Builders of envelope dicts in the wire format of ``EVENT-MODEL.md``.

Every builder takes the seeded ``random.Random`` it draws ids from, so that a demo run is
reproducible down to the ``event_id`` (which makes a re-sent backfill idempotent).
Times are epoch seconds (float) until they are rendered as RFC 3339 here.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

Event = dict[str, Any]

SEVERITY_OF_LEVEL = {"low": "info", "medium": "warning", "high": "error", "critical": "critical"}


def rfc3339(ts: float) -> str:
    """Epoch seconds as RFC 3339 UTC with milliseconds (``2025-01-01T12:00:00.123Z``)."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (reproducible, unlike ``uuid.uuid4``)."""
    # What uuid.UUID(int=..., version=4) does, at a third of the cost: set the version
    # and variant bits, then format.
    bits = (
        rng.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48) | (0x4000 << 64) | (0x8000 << 48)
    )
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def hex_id(rng: random.Random, chars: int) -> str:
    """Random lower-case hex of ``chars`` characters (trace and span ids, request ids)."""
    return f"{rng.getrandbits(chars * 4):0{chars}x}"


def envelope(
    rng: random.Random,
    ts: float,
    *,
    source: str,
    event_type: str,
    severity: str,
    payload_type: str,
    data: dict[str, Any],
    asset_id: str | None = None,
    environment: str = "prod",
    tags: dict[str, str] | None = None,
    parent: Event | None = None,
    **extra: Any,
) -> Event:
    """One envelope; ``extra`` adds optional fields (correlation_id, trace_id, ...).

    A ``parent`` event makes this one its child: same correlation id, and
    ``parent_event_id`` pointing at it (the causal chain correlation walks).
    """
    if parent is not None:
        extra.setdefault("correlation_id", parent.get("correlation_id"))
        extra["parent_event_id"] = parent["event_id"]
    event: Event = {
        "event_id": new_uuid(rng),
        "timestamp": rfc3339(ts),
        "source_module": source,
        "event_type": event_type,
        "severity": severity,
        "environment": environment,
        "schema_version": "1.0.0",
    }
    if asset_id is not None:
        event["asset_id"] = asset_id
    event.update({k: v for k, v in extra.items() if v is not None})
    event["tags"] = dict(tags or {})
    event["payload"] = {"payload_type": payload_type, "data": data}
    return event


def token_cost(
    rng: random.Random,
    ts: float,
    call: Event,
    *,
    input_per_mtok: float,
    output_per_mtok: float,
) -> Event:
    """CostOps' cost record of a model call (child of the call's event)."""
    data = call["payload"]["data"]
    prompt, completion = int(data["input_tokens"]), int(data["output_tokens"])
    return envelope(
        rng,
        ts,
        source="llm-cost-ops",
        event_type="cost",
        severity="info",
        payload_type="cost",
        asset_id=call.get("asset_id"),
        environment=call["environment"],
        tags={"team": call["tags"].get("team", "")},
        parent=call,
        data={
            "cost_type": "token_cost",
            "model_id": data["model_id"],
            "request_id": data["request_id"],
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "cost_per_prompt_token": input_per_mtok / 1e6,
            "cost_per_completion_token": output_per_mtok / 1e6,
            "total_cost_usd": round(float(data.get("cost_usd", 0.0)), 8),
            "currency": "USD",
        },
    )


def threat(
    rng: random.Random,
    ts: float,
    *,
    asset_id: str,
    threat_type: str,
    level: str,
    mitigation: str,
    target: str,
    attack_vector: str,
    indicators: list[str],
    source_ip: str,
    parent: Event | None = None,
    environment: str = "prod",
) -> Event:
    """A Sentinel security finding."""
    return envelope(
        rng,
        ts,
        source="llm-sentinel",
        event_type="security",
        severity=SEVERITY_OF_LEVEL[level],
        payload_type="security",
        asset_id=asset_id,
        environment=environment,
        tags={"detector": "sentinel"},
        parent=parent,
        data={
            "security_type": "threat",
            "threat_id": f"thr-{hex_id(rng, 12)}",
            "threat_type": threat_type,
            "threat_level": level,
            "source_ip": source_ip,
            "target_resource": target,
            "attack_vector": attack_vector,
            "mitigation_status": mitigation,
            "indicators_of_compromise": indicators,
        },
    )


def policy_violation(
    rng: random.Random,
    ts: float,
    *,
    asset_id: str,
    policy: tuple[str, str, str, tuple[str, ...]],
    user_id: str,
    severity: str,
    auto_remediated: bool,
    parent: Event | None = None,
) -> Event:
    """A policy-engine denial: ``policy`` is (id, name, description, rules)."""
    policy_id, name, description, rules = policy
    return envelope(
        rng,
        ts,
        source="llm-policy-engine",
        event_type="governance",
        severity=SEVERITY_OF_LEVEL[severity],
        payload_type="governance",
        asset_id=asset_id,
        tags={"decision": "policy_deny"},
        parent=parent,
        data={
            "governance_type": "policy_violation",
            "policy_id": policy_id,
            "policy_name": name,
            "violation_description": description,
            "violated_rules": list(rules),
            "resource_id": asset_id,
            "user_id": user_id,
            "severity": severity,
            "auto_remediated": auto_remediated,
        },
    )


def compliance_check(
    rng: random.Random,
    ts: float,
    *,
    framework: str,
    controls: list[str],
    failed: set[str],
    asset_id: str | None = None,
) -> Event:
    """A periodic compliance evaluation; ``failed`` names the controls that failed."""
    findings = [
        {
            "control_id": control,
            "status": "fail" if control in failed else "pass",
            "description": f"{control} {'not satisfied' if control in failed else 'satisfied'}",
        }
        for control in controls
    ]
    score = round(1.0 - len(failed) / max(1, len(controls)), 3)
    return envelope(
        rng,
        ts,
        source="llm-policy-engine",
        event_type="governance",
        severity="warning" if failed else "info",
        payload_type="governance",
        asset_id=asset_id,
        tags={"framework": framework},
        data={
            "governance_type": "compliance_check",
            "check_id": f"chk-{hex_id(rng, 10)}",
            "framework": framework,
            "controls_checked": controls,
            "passed": not failed,
            "score": score,
            "findings": findings,
        },
    )


def lifecycle(
    rng: random.Random,
    ts: float,
    *,
    action: str,
    asset_id: str,
    asset_kind: str,
    version: str,
    owner: str,
    attributes: dict[str, Any],
) -> Event:
    """A registry lifecycle event (ASSET_REGISTERED, VERSION_PUBLISHED, ...)."""
    return envelope(
        rng,
        ts,
        source="llm-registry",
        event_type="lifecycle",
        severity="info",
        payload_type="lifecycle",
        asset_id=asset_id,
        tags={"asset_kind": asset_kind},
        data={
            "lifecycle_type": "asset",
            "action": action,
            "asset_kind": asset_kind,
            "version": version,
            "owner": owner,
            "attributes": attributes,
        },
    )


def budget_alert(
    rng: random.Random,
    ts: float,
    *,
    budget_id: str,
    budget_name: str,
    limit_usd: float,
    spend_usd: float,
    threshold_percent: float,
    alert_type: str,
    asset_id: str | None = None,
) -> Event:
    """A CostOps budget alert (warning, critical or exceeded)."""
    severity = {"warning": "warning", "critical": "error", "exceeded": "critical"}[alert_type]
    return envelope(
        rng,
        ts,
        source="llm-cost-ops",
        event_type="cost",
        severity=severity,
        payload_type="cost",
        asset_id=asset_id,
        tags={"alert": alert_type},
        data={
            "cost_type": "budget_alert",
            "budget_id": budget_id,
            "budget_name": budget_name,
            "budget_limit_usd": round(limit_usd, 2),
            "current_spend_usd": round(spend_usd, 2),
            "threshold_percent": threshold_percent,
            "alert_type": alert_type,
        },
    )


def audit(
    rng: random.Random,
    ts: float,
    *,
    action: str,
    actor: str,
    resource_type: str,
    resource_id: str,
    changes: dict[str, Any],
) -> Event:
    """An audit-trail record from the governance dashboard."""
    return envelope(
        rng,
        ts,
        source="llm-governance-dashboard",
        event_type="audit",
        severity="info",
        payload_type="governance",
        asset_id=resource_id if resource_type == "application" else None,
        tags={"resource_type": resource_type},
        data={
            "governance_type": "audit_trail",
            "action": action,
            "actor": actor,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "changes": changes,
            "ip_address": f"10.20.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "user_agent": "governance-dashboard/2.8",
        },
    )


def auth(
    rng: random.Random,
    ts: float,
    *,
    asset_id: str,
    user_id: str,
    action: str,
    success: bool,
    failure_reason: str | None = None,
) -> Event:
    """An authentication or authorisation record from the marketplace gateway."""
    data: dict[str, Any] = {
        "security_type": "auth",
        "user_id": user_id,
        "action": action,
        "resource": asset_id,
        "success": success,
    }
    if failure_reason:
        data["failure_reason"] = failure_reason
    return envelope(
        rng,
        ts,
        source="llm-marketplace",
        event_type="security",
        severity="info" if success else "warning",
        payload_type="security",
        asset_id=asset_id,
        tags={"gateway": "marketplace"},
        data=data,
    )


__all__ = [
    "SEVERITY_OF_LEVEL",
    "Event",
    "audit",
    "auth",
    "budget_alert",
    "compliance_check",
    "envelope",
    "hex_id",
    "lifecycle",
    "new_uuid",
    "policy_violation",
    "rfc3339",
    "threat",
    "token_cost",
]
