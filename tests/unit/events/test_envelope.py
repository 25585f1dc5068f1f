"""Envelope fields: defaults, severities, modules, ids, versions and the tenant rule."""

from __future__ import annotations

import json
import uuid

import pytest

from analytics_hub.events import (
    CANONICAL_MODULES,
    MODULE_ALIASES,
    Normalizer,
    Severity,
    canonical_module,
)

from .builders import TENANT, decode, event, only_error, only_row


def test_defaults_and_pass_through_fields(normalizer: Normalizer) -> None:
    row = only_row(decode(normalizer, event(asset_id="support-bot", correlation_id="run-7")))
    assert row["tenant_id"] == TENANT
    assert row["environment"] == "prod"
    assert row["schema_version"] == "1.0.0"
    assert row["tags"] == "{}"
    assert row["asset_id"] == "support-bot"
    assert row["correlation_id"] == "run-7"
    assert row["event_type"] == "telemetry"
    assert row["parent_event_id"] is None


@pytest.mark.parametrize(
    ("sent", "stored", "level"),
    [
        ("debug", "debug", 0),
        ("info", "info", 1),
        ("warning", "warning", 2),
        ("error", "error", 3),
        ("critical", "critical", 4),
        ("low", "info", 1),
        ("medium", "warning", 2),
        ("high", "error", 3),
    ],
)
def test_severities_and_their_aliases(
    normalizer: Normalizer, sent: str, stored: str, level: int
) -> None:
    row = only_row(decode(normalizer, event(severity=sent)))
    assert (row["severity"], row["severity_level"]) == (stored, level)


def test_a_batch_mixing_severity_names_and_aliases(normalizer: Normalizer) -> None:
    table = decode(normalizer, event(severity="high"), event(severity="debug")).table
    assert table.column("severity").to_pylist() == ["error", "debug"]
    assert table.column("severity_level").to_pylist() == [3, 0]


def test_severity_is_ordered() -> None:
    assert Severity.DEBUG < Severity.INFO < Severity.WARNING < Severity.ERROR < Severity.CRITICAL
    assert Severity.parse("medium") is Severity.WARNING
    assert Severity.parse("critical") is Severity.CRITICAL
    with pytest.raises(ValueError, match="unknown severity"):
        Severity.parse("fatal")


def test_an_unknown_severity_is_rejected(normalizer: Normalizer) -> None:
    field, message = only_error(decode(normalizer, event(severity="fatal")))
    assert field == "severity"
    assert "'fatal'" in message


def test_an_unknown_event_type_is_rejected(normalizer: Normalizer) -> None:
    assert only_error(decode(normalizer, event(event_type="metric")))[0] == "event_type"


@pytest.mark.parametrize("alias", sorted(MODULE_ALIASES))
def test_module_aliases_become_canonical(normalizer: Normalizer, alias: str) -> None:
    row = only_row(decode(normalizer, event(source_module=alias)))
    assert row["source_module"] == MODULE_ALIASES[alias]
    assert row["source_module"] in CANONICAL_MODULES


def test_the_contracts_short_forms_are_all_aliases() -> None:
    short = ["observatory", "sentinel", "costops", "cost-ops", "llm-costops", "governance"]
    short += ["llm-governance", "registry", "policy-engine", "marketplace"]
    assert {canonical_module(s) for s in short} <= set(CANONICAL_MODULES)


@pytest.mark.parametrize("name", ["my-gateway", "acme.router", "batch_eval2", "LLM-Sentinel"])
def test_other_slugs_are_custom_sources(normalizer: Normalizer, name: str) -> None:
    row = only_row(decode(normalizer, event(source_module=name)))
    assert row["source_module"] == canonical_module(name) == name.lower()


@pytest.mark.parametrize("name", ["my gateway", "-x", "2fast", "a--b", "é-module", "x/y", "a" * 65])
def test_malformed_module_names_are_rejected(normalizer: Normalizer, name: str) -> None:
    field, message = only_error(decode(normalizer, event(source_module=name)))
    assert field == "source_module"
    assert "source_module" in message or "length" in message


def test_a_bad_module_in_a_batch_rejects_only_its_event(normalizer: Normalizer) -> None:
    batch = decode(normalizer, event(), event(source_module="bad name"), event("auth"))
    assert [e.index for e in batch.errors] == [1]
    assert batch.table.num_rows == 2


def test_missing_event_ids_are_made_time_ordered(normalizer: Normalizer) -> None:
    batch = decode(normalizer, *(event(event_id=...) for _ in range(50)))
    ids = batch.table.column("event_id").to_pylist()
    assert len(set(ids)) == 50
    assert ids == sorted(ids)
    assert all(uuid.UUID(i).version == 7 and i == i.lower() for i in ids)


def test_given_event_ids_are_kept_in_lower_case(normalizer: Normalizer) -> None:
    given = "0190A4B6-3C2D-7E8F-9A0B-1C2D3E4F5A6B"
    batch = decode(normalizer, event(event_id=given), event(event_id=None))
    ids = batch.table.column("event_id").to_pylist()
    assert ids[0] == given.lower()
    assert uuid.UUID(ids[1]).version == 7


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event_id", "evt-123"),
        ("event_id", "0190a4b6-3c2d-7e8f-9a0b-1c2d3e4f5a6"),
        ("event_id", "0190a4b63c2d7e8f9a0b1c2d3e4f5a6b"),
        ("event_id", "0190a4b6-3c2d-7e8f-9a0b-1c2d3e4f5a6g"),
        ("parent_event_id", "parent"),
        ("trace_id", "xyz"),
        ("trace_id", "4bf92f3577b34da6a3ce929d0e0e473"),
        ("span_id", "00f067aa0ba902b"),
        ("span_id", "00f067aa0ba902bz"),
    ],
)
def test_malformed_ids_are_rejected_by_field(
    normalizer: Normalizer, field: str, value: str
) -> None:
    got_field, _ = only_error(decode(normalizer, event(**{field: value})))
    assert got_field == field


def test_trace_context_is_stored_in_lower_case(normalizer: Normalizer) -> None:
    row = only_row(
        decode(
            normalizer,
            event(
                trace_id="4BF92F3577B34DA6A3CE929D0E0E4736",
                span_id="00F067AA0BA902B7",
                parent_event_id="0190A4B6-3C2D-7E8F-9A0B-1C2D3E4F5A60",
            ),
        )
    )
    assert row["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert row["span_id"] == "00f067aa0ba902b7"
    assert row["parent_event_id"] == "0190a4b6-3c2d-7e8f-9a0b-1c2d3e4f5a60"


def test_a_64_bit_trace_id_is_accepted(normalizer: Normalizer) -> None:
    assert only_row(decode(normalizer, event(trace_id="a3ce929d0e0e4736")))["trace_id"]


@pytest.mark.parametrize("version", ["1.0.0", "1.4.2", "1.0.0-rc.1"])
def test_schema_versions_of_the_supported_major(normalizer: Normalizer, version: str) -> None:
    assert only_row(decode(normalizer, event(schema_version=version)))["schema_version"] == version


@pytest.mark.parametrize(("version", "words"), [("2.0.0", "not supported"), ("1.0", "semantic")])
def test_other_schema_versions_are_rejected(
    normalizer: Normalizer, version: str, words: str
) -> None:
    field, message = only_error(decode(normalizer, event(schema_version=version)))
    assert field == "schema_version"
    assert words in message


@pytest.mark.parametrize("key", ["tenant_id", "tenant"])
def test_a_tenant_in_the_body_is_rejected(normalizer: Normalizer, key: str) -> None:
    field, message = only_error(decode(normalizer, event(**{key: "other-co"})))
    assert field == "tenant_id"
    assert "credential" in message


def test_the_tenant_rule_looks_only_at_the_top_level(normalizer: Normalizer) -> None:
    row = only_row(decode(normalizer, event(tags={"tenant": "x"}, data={"user_id": "tenant_id"})))
    assert json.loads(row["tags"]) == {"tenant": "x"}
    assert row["tenant_id"] == "acme"


def test_a_tenant_in_one_event_rejects_only_that_one(normalizer: Normalizer) -> None:
    batch = decode(normalizer, event(), event(tenant_id="evil"), event())
    assert [(e.index, e.field) for e in batch.errors] == [(1, "tenant_id")]
    assert batch.table.num_rows == 2
    assert batch.table.column("tenant_id").to_pylist() == ["acme", "acme"]


def test_tags_are_stored_as_a_json_object(normalizer: Normalizer) -> None:
    row = only_row(decode(normalizer, event(tags={"team": "search", "region": "eu"})))
    assert json.loads(row["tags"]) == {"team": "search", "region": "eu"}


def test_made_and_given_ids_survive_a_rejection_in_the_batch(normalizer: Normalizer) -> None:
    given = "0190a4b6-3c2d-7e8f-9a0b-1c2d3e4f5a6b"
    events = [
        event(event_id=...),
        event(event_id=..., timestamp="2020-01-01T00:00:00Z"),
        event(event_id=given),
        event(event_id=...),
    ]
    batch = decode(normalizer, *events)
    assert [e.index for e in batch.errors] == [1]
    ids = batch.table.column("event_id").to_pylist()
    assert ids[1] == given
    assert uuid.UUID(ids[0]).version == uuid.UUID(ids[2]).version == 7
    assert ids[0] < ids[2]
    all_made = decode(normalizer, event(event_id=...), event(event_id=..., severity="x"), event())
    assert len(all_made.table.column("event_id").to_pylist()) == 2
