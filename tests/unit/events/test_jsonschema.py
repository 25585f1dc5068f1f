"""The committed JSON Schema matches the types; the OpenAPI components resolve."""

from __future__ import annotations

import json
from pathlib import Path

from analytics_hub.events import envelope_json_schema, openapi_components
from analytics_hub.events.jsonschema import render

SCHEMA = Path(__file__).resolve().parents[3] / "schemas" / "event.schema.json"


def test_the_committed_schema_is_up_to_date() -> None:
    assert SCHEMA.read_text() == render(), (
        "schemas/event.schema.json is out of date; regenerate it with\n"
        "    python -m analytics_hub.events.jsonschema > schemas/event.schema.json"
    )


def test_the_committed_schema_is_sorted_pretty_json() -> None:
    text = SCHEMA.read_text()
    assert text.endswith("}\n")
    assert json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n" == text


def test_the_schema_describes_the_contract() -> None:
    schema = envelope_json_schema()
    envelope = schema["$defs"]["Envelope"]
    assert set(envelope["required"]) == {
        "timestamp",
        "source_module",
        "event_type",
        "severity",
        "payload",
    }
    assert "tenant_id" not in envelope["properties"]
    mapping = envelope["properties"]["payload"]["discriminator"]["mapping"]
    assert set(mapping) == {"telemetry", "security", "cost", "governance", "lifecycle", "custom"}
    llm_call = schema["$defs"]["LlmCall"]
    assert llm_call["properties"]["telemetry_type"] == {"enum": ["llm_call"]}
    assert not llm_call["description"].startswith(" ")


def test_openapi_components_reference_each_other() -> None:
    components = openapi_components()
    text = json.dumps(components)
    refs = {part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}
    assert "Envelope" in components
    assert refs <= set(components)
    assert "$defs" not in text
