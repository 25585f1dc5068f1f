"""A structural check of an envelope dict against EVENT-MODEL.md, written from the doc.

Independent of ``analytics_hub.events`` on purpose: the demo must follow the contract,
not whatever the decoder currently accepts.
"""

from __future__ import annotations

import re
from typing import Any

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
MODULES = {
    "llm-observatory",
    "llm-sentinel",
    "llm-cost-ops",
    "llm-governance-dashboard",
    "llm-registry",
    "llm-policy-engine",
    "llm-marketplace",
    "llm-analytics-hub",
}
EVENT_TYPES = {
    "telemetry",
    "security",
    "cost",
    "governance",
    "lifecycle",
    "audit",
    "alert",
    "custom",
}
SEVERITIES = {"debug", "info", "warning", "error", "critical"}
LEVELS = {"low", "medium", "high", "critical"}

# kind -> sub-type -> required fields (EVENT-MODEL.md, fields without "?")
REQUIRED: dict[str, dict[str, set[str]]] = {
    "telemetry": {
        "llm_call": {"model_id", "provider", "operation", "input_tokens", "output_tokens",
                     "latency_ms", "status"},
    },
    "security": {
        "threat": {"threat_id", "threat_type", "threat_level", "target_resource", "attack_vector",
                   "mitigation_status", "indicators_of_compromise"},
        "auth": {"user_id", "action", "resource", "success"},
    },
    "cost": {
        "token_cost": {"model_id", "request_id", "prompt_tokens", "completion_tokens",
                       "total_tokens", "cost_per_prompt_token", "cost_per_completion_token",
                       "total_cost_usd", "currency"},
        "budget_alert": {"budget_id", "budget_name", "budget_limit_usd", "current_spend_usd",
                         "threshold_percent", "alert_type"},
    },
    "governance": {
        "policy_violation": {"policy_id", "policy_name", "violation_description",
                             "violated_rules", "resource_id", "severity", "auto_remediated"},
        "audit_trail": {"action", "actor", "resource_type", "resource_id", "changes"},
        "compliance_check": {"check_id", "framework", "controls_checked", "passed", "score",
                             "findings"},
    },
    "lifecycle": {"asset": {"action", "asset_kind", "attributes"}},
}  # fmt: skip
ENUMS: dict[str, set[str]] = {
    "status": {"ok", "error"},
    "threat_type": {"prompt_injection", "data_exfiltration", "model_poisoning",
                    "denial_of_service", "unauthorized_access", "malicious_input", "other"},
    "threat_level": LEVELS,
    "mitigation_status": {"detected", "blocked", "mitigated", "investigating", "resolved"},
    "alert_type": {"warning", "critical", "exceeded"},
    "asset_kind": {"model", "fine_tuned_model", "prompt_template", "dataset", "endpoint",
                   "application", "pipeline", "policy", "other"},
}  # fmt: skip
LIFECYCLE_ACTIONS = {
    "ASSET_REGISTERED",
    "ASSET_UPDATED",
    "VERSION_PUBLISHED",
    "ASSET_DEPRECATED",
    "ASSET_DELETED",
}
NON_NEGATIVE = {"input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens",
                "latency_ms", "ttft_ms", "cost_usd", "total_cost_usd"}  # fmt: skip


def problems(event: dict[str, Any]) -> list[str]:
    """What is wrong with ``event``; empty when it follows the wire format."""
    out: list[str] = []
    for field in ("event_id", "timestamp", "source_module", "event_type", "severity", "payload"):
        if field not in event:
            out.append(f"missing {field}")
    if out:
        return out
    if "tenant_id" in event or "tenant" in event:
        out.append("names a tenant")
    if not UUID.match(event["event_id"]):
        out.append(f"event_id {event['event_id']!r} is not a UUIDv4")
    if not RFC3339_UTC.match(event["timestamp"]):
        out.append(f"timestamp {event['timestamp']!r}")
    if event["source_module"] not in MODULES:
        out.append(f"source_module {event['source_module']!r}")
    if event["event_type"] not in EVENT_TYPES:
        out.append(f"event_type {event['event_type']!r}")
    if event["severity"] not in SEVERITIES:
        out.append(f"severity {event['severity']!r}")
    tags = event.get("tags", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        out.append("tags must map strings to strings")
    payload = event["payload"]
    kind = payload.get("payload_type")
    data = payload.get("data")
    if kind not in REQUIRED or not isinstance(data, dict):
        return [*out, f"payload_type {kind!r}"]
    sub = data.get(f"{kind}_type")
    if sub not in REQUIRED[kind]:
        return [*out, f"{kind}_type {sub!r}"]
    missing = REQUIRED[kind][sub] - data.keys()
    if missing:
        out.append(f"{kind}/{sub} misses {sorted(missing)}")
    for field, allowed in ENUMS.items():
        if field in data and data[field] not in allowed:
            out.append(f"{field} {data[field]!r}")
    if kind == "lifecycle" and data["action"] not in LIFECYCLE_ACTIONS:
        out.append(f"action {data['action']!r}")
    if kind == "governance" and sub == "policy_violation" and data["severity"] not in LEVELS:
        out.append(f"policy severity {data['severity']!r}")
    for field in NON_NEGATIVE & data.keys():
        if not isinstance(data[field], int | float) or data[field] < 0:
            out.append(f"{field} {data[field]!r}")
    return out
