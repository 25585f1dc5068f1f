"""msgspec's error paths become dotted field paths."""

from __future__ import annotations

import pytest

from analytics_hub.events.messages import dotted


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("$", ""),
        ("$.timestamp", "timestamp"),
        ("$.payload.data.input_tokens", "payload.data.input_tokens"),
        ("$.payload.data.findings[2].status", "payload.data.findings[2].status"),
        ("$.payload.data.error_breakdown[...]", "payload.data.error_breakdown.*"),
    ],
)
def test_dotted_paths(path: str, field: str) -> None:
    assert dotted(path) == field
