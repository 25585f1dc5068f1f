"""The common base of every wire struct.

``kw_only`` (repeated on each subclass: msgspec does not inherit it) lets required
fields follow optional ones in contract order;
``omit_defaults`` keeps absent optional fields out of the stored payload JSON;
``gc=False`` skips garbage-collector tracking (these structs never form cycles), which
makes decoding large batches markedly cheaper.
"""

from __future__ import annotations

import msgspec


class WireStruct(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Base of the envelope, payloads and payload variants."""


__all__ = ["WireStruct"]
