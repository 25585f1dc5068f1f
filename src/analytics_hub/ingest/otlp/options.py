"""How OTLP data is mapped: one frozen options object, fixed per hub configuration."""

from __future__ import annotations

import re
from dataclasses import dataclass

from analytics_hub.events.fields import SLUG_PATTERN

# Per-process resource attributes: a new value with every restart (or every command
# line), so as tags they would only multiply the label combinations.
HIGH_CARDINALITY_RESOURCE_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "process.pid",
        "process.parent_pid",
        "process.command",
        "process.command_args",
        "process.command_line",
        "process.executable.path",
        "service.instance.id",
    }
)


@dataclass(frozen=True, slots=True)
class OtlpOptions:
    """What the OTLP mapping does with the spans and log records it receives.

    ``asset_attribute`` names the attribute whose value becomes the event's ``asset_id``
    (looked up in the resource first, then in the span or log record).
    ``source_module`` is the events' ``source_module``. ``keep_context_spans`` keeps
    spans that are not model calls as trace context (``custom``/``otel_span`` events);
    false drops them. ``keep_all_metrics`` keeps the points of every OTLP metric; false
    keeps only the GenAI ones (names starting ``gen_ai.``) and drops the rest.
    ``max_items`` bounds the spans, log records or metric data points of one request and
    ``max_attributes`` the attributes of one resource, span, log record or data point
    (and the events of one span): beyond them a request is refused (413) or an item
    rejected.
    """

    asset_attribute: str = "service.name"
    source_module: str = "otlp"
    keep_context_spans: bool = True
    keep_all_metrics: bool = False
    max_items: int = 10_000
    max_attributes: int = 4096
    untagged_resource_attributes: frozenset[str] = HIGH_CARDINALITY_RESOURCE_ATTRIBUTES

    def __post_init__(self) -> None:
        if not self.asset_attribute:
            raise ValueError("OtlpOptions.asset_attribute must name an attribute")
        if not re.fullmatch(SLUG_PATTERN, self.source_module):
            raise ValueError(
                f"OtlpOptions.source_module {self.source_module!r} is not a slug "
                "(lower-case letters and digits, separated by - _ or .)"
            )
        for name in ("max_items", "max_attributes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"OtlpOptions.{name} must be a positive integer, got {value!r}")


DEFAULT_OPTIONS = OtlpOptions()

__all__ = ["DEFAULT_OPTIONS", "HIGH_CARDINALITY_RESOURCE_ATTRIBUTES", "OtlpOptions"]
