"""Builders of wire events and results for the events tests."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import msgspec

from analytics_hub.events import DecodedBatch, Normalizer

RECEIVED = dt.datetime(2025, 3, 3, 12, 0, 0, tzinfo=dt.UTC)
TENANT = "acme"
RATES = {"EUR": 1.1, "GBP": 1.25}

# One valid example of every payload variant: (payload_type, data).
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "llm_call": (
        "telemetry",
        {
            "telemetry_type": "llm_call",
            "model_id": "gpt-4o-mini",
            "provider": "openai",
            "operation": "chat",
            "request_id": "req-1",
            "input_tokens": 100,
            "output_tokens": 20,
            "cached_input_tokens": 10,
            "reasoning_tokens": 5,
            "latency_ms": 812.5,
            "ttft_ms": 120.0,
            "cost_usd": 0.002,
            "status": "error",
            "error_type": "rate_limit",
            "finish_reason": "stop",
            "user_id": "u-1",
            "session_id": "s-1",
        },
    ),
    "latency": (
        "telemetry",
        {
            "telemetry_type": "latency",
            "model_id": "gpt-4",
            "request_id": "req-2",
            "total_latency_ms": 1523.45,
            "ttft_ms": 234.12,
            "tokens_per_second": 45.6,
            "breakdown": {
                "queue_time_ms": 100.0,
                "processing_time_ms": 1200.0,
                "network_time_ms": 200.0,
                "other_ms": 23.45,
            },
        },
    ),
    "throughput": (
        "telemetry",
        {
            "telemetry_type": "throughput",
            "model_id": "claude-3",
            "requests_per_second": 100.5,
            "tokens_per_second": 5000.0,
            "concurrent_requests": 25,
            "window_duration_seconds": 60,
        },
    ),
    "error_rate": (
        "telemetry",
        {
            "telemetry_type": "error_rate",
            "model_id": "gpt-4",
            "total_requests": 1000,
            "failed_requests": 8,
            "error_rate_percent": 0.8,
            "error_breakdown": {"timeout": 5, "rate_limit": 3},
            "window_duration_seconds": 300,
        },
    ),
    "token_usage": (
        "telemetry",
        {
            "telemetry_type": "token_usage",
            "model_id": "gpt-4",
            "request_id": "req-3",
            "prompt_tokens": 100,
            "completion_tokens": 200,
            "total_tokens": 300,
        },
    ),
    "model_performance": (
        "telemetry",
        {
            "telemetry_type": "model_performance",
            "model_id": "gpt-4",
            "accuracy": 0.92,
            "quality_score": 4.2,
            "custom_metrics": {"bleu": 0.41, "drift": -0.02},
        },
    ),
    "threat": (
        "security",
        {
            "security_type": "threat",
            "threat_id": "t-1",
            "threat_type": "prompt_injection",
            "threat_level": "high",
            "source_ip": "192.168.1.1",
            "target_resource": "endpoint-1",
            "attack_vector": "malicious prompt",
            "mitigation_status": "blocked",
            "indicators_of_compromise": ["ioc1", "ioc2"],
        },
    ),
    "vulnerability": (
        "security",
        {
            "security_type": "vulnerability",
            "vulnerability_id": "v-1",
            "cve_id": "CVE-2024-1234",
            "severity_score": 7.5,
            "affected_component": "tokenizer",
            "description": "a flaw",
            "remediation_status": "patch_available",
        },
    ),
    "compliance_violation": (
        "security",
        {
            "security_type": "compliance_violation",
            "violation_id": "cv-1",
            "regulation": "GDPR",
            "requirement": "Art. 5",
            "violation_description": "retained too long",
            "affected_data_types": ["email"],
            "remediation_required": True,
        },
    ),
    "auth": (
        "security",
        {
            "security_type": "auth",
            "user_id": "user-123",
            "action": "permission_denied",
            "resource": "/api/models",
            "success": False,
            "failure_reason": "missing role",
        },
    ),
    "privacy": (
        "security",
        {
            "security_type": "privacy",
            "data_type": "pii",
            "operation": "data_access",
            "user_consent": True,
            "data_subjects": ["user-1"],
            "purpose": "analytics",
        },
    ),
    "token_cost": (
        "cost",
        {
            "cost_type": "token_cost",
            "model_id": "gpt-4",
            "request_id": "req-4",
            "prompt_tokens": 100,
            "completion_tokens": 200,
            "total_tokens": 300,
            "cost_per_prompt_token": 0.00003,
            "cost_per_completion_token": 0.00006,
            "total_cost_usd": 0.015,
            "currency": "USD",
        },
    ),
    "api_cost": (
        "cost",
        {
            "cost_type": "api_cost",
            "provider": "openai",
            "api_endpoint": "/v1/chat/completions",
            "request_count": 1000,
            "cost_per_request": 0.01,
            "total_cost_usd": 10.0,
            "billing_period": "2025-03",
        },
    ),
    "resource_consumption": (
        "cost",
        {
            "cost_type": "resource_consumption",
            "resource_type": "gpu",
            "resource_id": "gpu-1",
            "quantity": 8.0,
            "unit": "hours",
            "cost_usd": 24.0,
            "utilization_percent": 85.0,
        },
    ),
    "budget_alert": (
        "cost",
        {
            "cost_type": "budget_alert",
            "budget_id": "b-1",
            "budget_name": "Q1 LLM budget",
            "budget_limit_usd": 10000.0,
            "current_spend_usd": 9500.0,
            "threshold_percent": 95.0,
            "alert_type": "critical",
        },
    ),
    "policy_violation": (
        "governance",
        {
            "governance_type": "policy_violation",
            "policy_id": "pol-1",
            "policy_name": "Data retention",
            "violation_description": "kept too long",
            "violated_rules": ["rule-1"],
            "resource_id": "dataset-9",
            "user_id": "user-789",
            "severity": "high",
            "auto_remediated": False,
        },
    ),
    "audit_trail": (
        "governance",
        {
            "governance_type": "audit_trail",
            "action": "update",
            "actor": "user-123",
            "resource_type": "model",
            "resource_id": "model-456",
            "changes": {"temperature": {"old": 0.2, "new": 0.7}, "owner": "ml-team"},
            "ip_address": "10.0.0.1",
            "user_agent": "Mozilla/5.0",
        },
    ),
    "compliance_check": (
        "governance",
        {
            "governance_type": "compliance_check",
            "check_id": "chk-1",
            "framework": "SOC2",
            "controls_checked": ["CC6.1", "CC6.2"],
            "passed": False,
            "score": 0.5,
            "findings": [
                {
                    "control_id": "CC6.1",
                    "status": "pass",
                    "description": "access controls",
                    "evidence": "IAM policies",
                },
                {"control_id": "CC6.2", "status": "fail", "description": "MFA missing"},
            ],
        },
    ),
    "data_lineage": (
        "governance",
        {
            "governance_type": "data_lineage",
            "data_asset_id": "asset-123",
            "operation": "transform",
            "source": "raw",
            "destination": "clean",
            "transformation": "anonymization",
            "lineage_path": ["raw", "clean"],
        },
    ),
    "asset": (
        "lifecycle",
        {
            "lifecycle_type": "asset",
            "action": "VERSION_PUBLISHED",
            "asset_kind": "fine_tuned_model",
            "version": "1.2.0",
            "owner": "ml-team",
            "attributes": {"base_model": "llama-3", "params": 8e9},
        },
    ),
    "custom": (
        "custom",
        {"custom_type": "eval_run", "data": {"suite": "mmlu", "scores": [0.7, 0.8]}},
    ),
}


def event(variant: str = "llm_call", **fields: Any) -> dict[str, Any]:
    """A valid wire event of ``variant``; ``fields`` override top-level fields.

    ``data={...}`` updates the payload data; a value of ``...`` removes a field.
    """
    payload_type, data = VARIANTS[variant]
    evt: dict[str, Any] = {
        "event_id": "0190a4b6-3c2d-7e8f-9a0b-1c2d3e4f5a6b",
        "timestamp": "2025-03-03T11:59:00Z",
        "source_module": "llm-observatory",
        "event_type": "telemetry" if payload_type == "telemetry" else payload_type,
        "severity": "info",
        "payload": {"payload_type": payload_type, "data": copy.deepcopy(data)},
    }
    for key, value in fields.pop("data", {}).items():
        if value is ...:
            evt["payload"]["data"].pop(key, None)
        else:
            evt["payload"]["data"][key] = value
    for key, value in fields.items():
        if value is ...:
            evt.pop(key, None)
        else:
            evt[key] = value
    return evt


def body(*events: Any) -> bytes:
    """A JSON array body."""
    return msgspec.json.encode(list(events))


def decode(normalizer: Normalizer, *events: Any) -> DecodedBatch:
    """Decode ``events`` as one JSON array body."""
    return normalizer.decode_json(body(*events), tenant_id=TENANT, received_at=RECEIVED)


def only_row(batch: DecodedBatch) -> dict[str, Any]:
    """The single accepted row of ``batch`` (fails on errors)."""
    assert batch.errors == [], batch.errors
    rows: list[dict[str, Any]] = batch.table.to_pylist()
    assert len(rows) == 1
    return rows[0]


def only_error(batch: DecodedBatch) -> tuple[str, str]:
    """The ``(field, message)`` of the single rejected event of ``batch``."""
    assert batch.table.num_rows == 0, batch.table.to_pylist()
    assert len(batch.errors) == 1, batch.errors
    return batch.errors[0].field, batch.errors[0].message
