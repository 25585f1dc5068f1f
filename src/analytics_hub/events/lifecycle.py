"""Lifecycle payloads (``payload_type: lifecycle``, tagged by ``lifecycle_type``).

``lifecycle`` is not in the ecosystem's ``payload_type`` list although its variant table
has ``lifecycle / asset``; the hub adds it (docs/decisions/0002-lifecycle-payload-type.md).
"""

from __future__ import annotations

from typing import Literal

from analytics_hub.events.base import WireStruct
from analytics_hub.events.fields import Id, JsonMap


class Asset(WireStruct, kw_only=True, tag_field="lifecycle_type", tag="asset"):
    """A registry asset changed (LLM-Registry ``registry.events.*``)."""

    action: Literal[
        "ASSET_REGISTERED",
        "ASSET_UPDATED",
        "VERSION_PUBLISHED",
        "ASSET_DEPRECATED",
        "ASSET_DELETED",
    ]
    asset_kind: Literal[
        "model",
        "fine_tuned_model",
        "prompt_template",
        "dataset",
        "endpoint",
        "application",
        "pipeline",
        "policy",
        "other",
    ]
    version: Id | None = None
    owner: Id | None = None
    attributes: JsonMap


LifecycleData = Asset


class LifecyclePayload(WireStruct, kw_only=True, tag_field="payload_type", tag="lifecycle"):
    """Asset lifecycle events."""

    data: LifecycleData


__all__ = ["Asset", "LifecycleData", "LifecyclePayload"]
