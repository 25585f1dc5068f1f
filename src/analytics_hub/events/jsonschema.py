"""The JSON Schema of the event envelope, generated from the msgspec types.

The committed copy is ``schemas/event.schema.json``; a unit test fails when it drifts.
Regenerate it with::

    python -m analytics_hub.events.jsonschema > schemas/event.schema.json

Patterns of ids, versions, slugs and tag keys appear in the schema although the decoder
checks them batch-wise after decoding (see :mod:`analytics_hub.events.fields`).
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import msgspec

from analytics_hub.events.envelope import Envelope

SCHEMA_ID = "https://llm-analytics-hub.dev/schemas/event.schema.json"


def envelope_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one event envelope."""
    schema: dict[str, Any] = msgspec.json.schema(Envelope)
    for definition in schema["$defs"].values():
        if "description" in definition:  # docstrings, without their indentation
            definition["description"] = inspect.cleandoc(definition["description"])
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "LLM Analytics Hub event"
    schema["description"] = (
        "One event as sent to the hub. The tenant is never part of the body: it comes "
        "from the credential. Unknown top-level fields are ignored."
    )
    return schema


def openapi_components() -> dict[str, Any]:
    """The envelope and its parts as OpenAPI ``components.schemas`` entries.

    References point at ``#/components/schemas/<name>``; the envelope is ``Envelope``.
    """
    _, components = msgspec.json.schema_components(
        [Envelope], ref_template="#/components/schemas/{name}"
    )
    for definition in components.values():
        if "description" in definition:
            definition["description"] = inspect.cleandoc(definition["description"])
    return components


def render() -> str:
    """The schema as committed: pretty-printed, sorted keys, trailing newline."""
    return json.dumps(envelope_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    """Print the schema (``python -m analytics_hub.events.jsonschema``)."""
    print(render(), end="")


if __name__ == "__main__":
    main()

__all__ = ["envelope_json_schema", "openapi_components", "render"]
