"""Encoded span attributes (from the :mod:`.lean` view): the few the mapping reads.

An attribute arrives as the protobuf encoding of a ``KeyValue``. SDKs write it in one
shape, ``0x0A len key 0x12 len AnyValue``, with one field in the ``AnyValue``; in that
shape the key is a slice and a short string, integer, double or boolean value (or the
first string of an array) is decoded here in a few operations, far cheaper than the
generated classes' objects. Only attributes whose key is wanted are decoded at all.
Anything in another shape (fields in another order or repeated, a key of 128 bytes or
more, other kinds of value) is decoded by the protobuf runtime, with the real
``KeyValue``/``AnyValue`` classes, so that its meaning is exactly the reference's.

Decoded values are Python scalars (``str``, ``bool``, ``int``, ``float``), an
:class:`ArrayHead` (an array whose first element is a string) or, for any other kind,
the ``AnyValue`` itself. The readers below give what :mod:`.attributes` gives for the
same attributes, and raise :class:`Fallback` wherever it would raise (or could), so
that the reference mapping decides, and words, every rejection.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Collection, Iterable, Mapping, Sequence

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from analytics_hub.ingest.otlp import attributes as reference

_KEY, _VALUE = 0x0A, 0x12  # KeyValue fields 1 and 2, length-delimited
_STRING, _BOOL, _INT, _DOUBLE, _ARRAY = 0x0A, 0x10, 0x18, 0x21, 0x2A  # AnyValue fields
_DOUBLE_AT = struct.Struct("<d").unpack_from
_EMPTY = AnyValue()  # read only: an attribute without a value
PROMPTS = b"llm.prompts"  # OpenInference: prompts make an LLM span a completion


class Fallback(Exception):
    """The span is not for the fast path: map it the reference way."""


class ArrayHead:
    """An array value whose first element is a string (``gen_ai.response.finish_reasons``):
    only that element is ever read."""

    __slots__ = ("first",)

    def __init__(self, first: str) -> None:
        self.first = first


Value = str | bool | int | float | ArrayHead | AnyValue
# The attributes of a span by key: the wanted ones with their value; the others, with
# None, all under OTHER, or under PROMPTED for keys that start with PROMPTS. None of the
# three keys below is UTF-8, and every attribute key is: no attribute has them.
Found = dict[bytes, Value | None]
ABSENT = b"\xff"  # what fields without an attribute are read from (it maps to None)
OTHER = b"\xfe"
PROMPTED = b"\xfd"
_OTHER: tuple[bytes, Value | None] = (OTHER, None)
_PROMPTED: tuple[bytes, Value | None] = (PROMPTED, None)
# Encodings up to this long are remembered (see Reader), this many at most.
MEMO_BYTES = 128
MEMO_ENTRIES = 1 << 15


class Reader:
    """Reads encoded attributes, decoding the values of ``wanted`` keys only.

    Spans repeat most of their attributes byte for byte (the operation, provider and
    model, token counts in a bounded range, constant labels), so each distinct short
    encoding is decoded once and remembered: a span whose attributes were all seen is
    read by the runtime's own loops (``map``, ``dict``) without a line of Python per
    attribute. The memo holds at most ``MEMO_ENTRIES`` encodings of at most
    ``MEMO_BYTES`` bytes (about 12 MiB at worst) and starts afresh when full; what it
    holds only saves work, so traffic that fills it (every value new) costs the decoding
    it would cost anyway. Thread-safe: the memo is only read and written with single
    dict operations.
    """

    def __init__(self, wanted: Collection[bytes]) -> None:
        self._wanted = {key: key for key in wanted}  # one key object for all spans
        self.memo: dict[bytes, tuple[bytes, Value | None]] = {}

    def read(self, raws: Sequence[bytes]) -> Found:
        """The attributes of ``raws`` (a repeated key: the last wins, as in the OTel
        SDKs); see ``Found``. Unwanted values are never decoded."""
        try:
            # All in the runtime's loops; an encoding not yet seen makes a None, which
            # dict() refuses (TypeError): then each is decoded here.
            return dict(map(self.memo.get, raws))  # type: ignore[arg-type]
        except TypeError:
            memo = self.memo
            return dict(memo.get(raw) or self._decode(raw) for raw in raws)

    def _decode(self, raw: bytes) -> tuple[bytes, Value | None]:
        # The usual shape: 0x0A, key length (< 128), key, then nothing (no value) or
        # 0x12, value length (one or two varint bytes), value, up to the end.
        n = len(raw)
        q = 0  # where the value starts; 0 when raw is not in the usual shape
        if n > 1 and raw[0] == _KEY and raw[1] < 128:
            p = raw[1] + 2
            if p == n:
                q = n  # a key without a value
            elif p + 1 < n and raw[p] == _VALUE:
                size = raw[p + 1]
                q = p + 2
                if size > 127:
                    if p + 2 < n and raw[p + 2] < 128:
                        q, size = p + 3, (size & 0x7F) | (raw[p + 2] << 7)
                    else:
                        q = 0
                if q + size != n:
                    q = 0
        if q:
            key = raw[2:p]
        else:
            kv = KeyValue.FromString(raw)  # any other encoding: the runtime decodes it
            key = kv.key.encode()
        wanted = self._wanted.get(key)
        pair: tuple[bytes, Value | None]
        if wanted is None:
            pair = _PROMPTED if key.startswith(PROMPTS) else _OTHER
        else:
            pair = (wanted, _value(raw, q, n) if q else _kind(kv.value))
        if n <= MEMO_BYTES:
            if len(self.memo) >= MEMO_ENTRIES:
                self.memo.clear()
            self.memo[raw] = pair
        return pair


def _value(raw: bytes, q: int, n: int) -> Value:
    """The ``AnyValue`` encoded in ``raw[q:n]``."""
    if q == n:
        return _EMPTY
    tag = raw[q]
    if tag == _STRING:
        size = raw[q + 1]
        if size < 128 and q + 2 + size == n:
            return raw[q + 2 : n].decode()  # valid UTF-8: the real parse checked it
    elif tag in (_INT, _BOOL):
        number = _varint_to_end(raw, q + 1, n)
        if number is not None:
            if tag == _BOOL:
                return number != 0
            return number - (1 << 64) if number >= 1 << 63 else number  # int64
    elif tag == _DOUBLE:
        if q + 9 == n:
            found: float = _DOUBLE_AT(raw, q + 1)[0]
            return found
    elif tag == _ARRAY:
        head = _array_head(raw, q, n)
        if head is not None:
            return ArrayHead(head)
    return _kind(AnyValue.FromString(raw[q:n]))


def _varint_to_end(raw: bytes, at: int, n: int) -> int | None:
    """The varint at ``raw[at:]`` if it ends exactly at ``n`` (low 64 bits), else None."""
    number = shift = 0
    while at < n:
        byte = raw[at]
        number |= (byte & 0x7F) << shift
        at += 1
        shift += 7
        if byte < 0x80:
            return number & 0xFFFFFFFFFFFFFFFF if at == n else None
    return None


def _array_head(raw: bytes, q: int, n: int) -> str | None:
    """The first element of the array ``raw[q:n]`` when the array is the value's only
    field and that element is a lone string; else None (the runtime decodes it)."""
    # 0x2A len | 0x0A elen | 0x0A slen string ...
    if q + 6 > n or raw[q + 1] > 127 or q + 2 + raw[q + 1] != n or raw[q + 2] != 0x0A:
        return None
    element, size = raw[q + 3], raw[q + 5]
    if element > 127 or raw[q + 4] != _STRING or size + 2 != element or q + 4 + element > n:
        return None
    return raw[q + 6 : q + 6 + size].decode()


def _kind(value: AnyValue) -> Value:
    found = reference.scalar(value)
    return value if found is None else found


# --- what attributes.text, count, number and first_text give --------------------------


def text(found: Found, keys: Iterable[bytes]) -> str | None:
    """The first of ``keys`` present with a scalar value, as text."""
    for key in keys:
        value = found.get(key)
        if value is None:
            continue
        if type(value) is str:
            return value
        if type(value) is bool:
            return "true" if value else "false"
        if type(value) is int or type(value) is float:
            return str(value)
    return None


def count(found: Found, keys: Iterable[bytes]) -> int | None:
    """The first of ``keys`` present, as a whole number >= 0 (token counts)."""
    for key in keys:
        value = found.get(key)
        if value is None:
            continue
        if type(value) is int and value >= 0:
            return value
        if type(value) is str:
            try:
                value = float(value.strip())
            except ValueError:
                raise Fallback from None
        if type(value) is float and math.isfinite(value) and value.is_integer() and value >= 0:
            return int(value)
        raise Fallback
    return None


def number(found: Found, keys: Iterable[bytes]) -> float | None:
    """The first of ``keys`` present, as a finite number >= 0 (seconds, dollars)."""
    for key in keys:
        value = found.get(key)
        if value is None:
            continue
        if type(value) is str:
            try:
                value = float(value)
            except ValueError:
                raise Fallback from None
        if (type(value) is float or type(value) is int) and math.isfinite(value) and value >= 0:
            return float(value)
        raise Fallback
    return None


def first_text(found: Found, keys: Iterable[bytes]) -> str | None:
    """Like :func:`text`, but an array value gives its first scalar element."""
    for key in keys:
        value = found.get(key)
        if value is None:
            continue
        if isinstance(value, ArrayHead):
            return value.first
        if isinstance(value, AnyValue):
            found_ = _first_text_of(value)
            if found_ is not None:
                return found_
            continue
        return text(found, (key,))
    return None


def _first_text_of(value: AnyValue) -> str | None:
    by_key: Mapping[str, AnyValue] = {"": value}
    return reference.first_text(by_key, ("",))


__all__ = [
    "ABSENT",
    "OTHER",
    "PROMPTED",
    "PROMPTS",
    "ArrayHead",
    "Fallback",
    "Found",
    "Reader",
    "Value",
    "count",
    "first_text",
    "number",
    "text",
]
