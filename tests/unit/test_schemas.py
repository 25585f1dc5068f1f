"""Generated artefacts are committed and must not drift from the code."""

from __future__ import annotations

from pathlib import Path

from analytics_hub.server.openapi import render

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_matches_the_code() -> None:
    committed = (ROOT / "schemas" / "openapi.json").read_text()
    assert committed == render(), (
        "schemas/openapi.json is stale: run "
        "`.venv/bin/python -m analytics_hub.server.openapi > schemas/openapi.json`"
    )


def test_the_openapi_document_describes_every_route_and_the_envelope() -> None:
    import json

    doc = json.loads(render())
    for path in ("/api/v1/events", "/api/v1/query", "/api/v1/metrics/overview", "/healthz"):
        assert path in doc["paths"], path
    assert "Envelope" in doc["components"]["schemas"]
