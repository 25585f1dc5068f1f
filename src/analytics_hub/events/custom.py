"""Custom payloads (``payload_type: custom``).

``custom_type`` is free (it becomes the stored ``payload_subtype``) and ``data`` is any
JSON value, bounded by the payload size and depth limits.
"""

from __future__ import annotations

from analytics_hub.events.base import WireStruct
from analytics_hub.events.fields import Json, Key


class CustomData(WireStruct, kw_only=True):
    """An event of the emitter's own kind; ``custom_type`` becomes the stored subtype."""

    custom_type: Key
    data: Json


class CustomPayload(WireStruct, kw_only=True, tag_field="payload_type", tag="custom"):
    """Anything else, as JSON."""

    data: CustomData


__all__ = ["CustomData", "CustomPayload"]
