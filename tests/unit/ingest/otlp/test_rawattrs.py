"""Encoded attributes and ids on the fast path: any valid encoding means what the
protobuf runtime makes of it, the memos stay bounded, ids are those of the reference."""

from __future__ import annotations

import hashlib
import os
import struct

import pytest

from analytics_hub.ingest.otlp import (
    DEFAULT_OPTIONS,
    OtlpEncoding,
    OtlpOptions,
    decode_traces,
    fastspans,
    rawattrs,
)
from analytics_hub.ingest.otlp.ids import derived_uuid, span_event_id, uuid_text, uuid_texts
from analytics_hub.ingest.otlp.rawattrs import OTHER, PROMPTED, Reader

from .builders import TRACE, span, traces
from .test_fastspans import CHAT, GENAI, same


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def text(s: str) -> bytes:
    return field(1, s.encode())  # AnyValue.string_value


def integer(n: int) -> bytes:
    return b"\x18" + varint(n & 0xFFFFFFFFFFFFFFFF)  # AnyValue.int_value


def kv(key: str, any_value: bytes) -> bytes:
    return field(1, key.encode()) + field(2, any_value)


def body_of(*raw_attributes: bytes, status: bytes = b"") -> bytes:
    """An export request of one span of CHAT plus ``raw_attributes``, encoded by hand."""
    base = span(CHAT).SerializeToString() + b"".join(field(9, raw) for raw in raw_attributes)
    scope_spans = field(2, base + status)
    resource_spans = field(1, field(1, kv("service.name", text("svc")))) + field(2, scope_spans)
    return field(1, resource_spans)


def same_from_wire(body: bytes) -> None:
    request, rejected = decode_traces(body, OtlpEncoding.PROTOBUF, DEFAULT_OPTIONS)
    same(request, wire=body, rejected=rejected)


TOKENS = "gen_ai.usage.input_tokens"
ENCODINGS = {
    "usual": kv(TOKENS, integer(12)),
    "value-first": field(2, integer(12)) + field(1, TOKENS.encode()),
    "key-twice": field(1, b"other") + kv(TOKENS, integer(12)),
    "value-twice-merged": kv(TOKENS, text("x")) + field(2, integer(13)),
    "arrays-merged": kv("gen_ai.response.finish_reasons", field(5, field(1, text("a"))))
    + field(2, field(5, field(1, text("b")))),
    "unknown-field": kv(TOKENS, integer(12)) + b"\x18\x05",
    "two-kinds-last-wins": kv(TOKENS, text("x") + integer(14)),
    "long-length-varint": kv("user.id", b"\x0a\x85\x00hello"),
    "long-value": kv("user.id", text("u" * 200)),
    "long-key": kv("k" * 130, text("v")),
    "empty": b"",
    "key-only": field(1, TOKENS.encode()),
    "empty-value": kv(TOKENS, b""),
    "bool-wide-varint": kv("user.id", b"\x10\x80\x01"),
    "negative": kv(TOKENS, integer(-5)),
    "min-int": kv("user.id", integer(-(2**63))),
    "double": kv("llm.cost.total", b"\x21" + struct.pack("<d", 0.5)),
    "array-of-int": kv("gen_ai.response.finish_reasons", field(5, field(1, integer(3)))),
    "array-empty-string": kv("gen_ai.response.finish_reasons", field(5, field(1, text("")))),
    "array-of-array": kv(
        "gen_ai.response.finish_reasons", field(5, field(1, field(5, field(1, text("x")))))
    ),
    "array-long-string": kv("gen_ai.response.finish_reasons", field(5, field(1, text("s" * 300)))),
    "kvlist": kv("gen_ai.response.model", field(6, field(1, kv("a", text("b"))))),
    "prompt": kv("llm.prompts.0.prompt.text", text("hi"))
    + kv("openinference.span.kind", text("LLM")),
}


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_any_encoding_of_an_attribute_means_what_the_runtime_reads(name: str) -> None:
    same_from_wire(body_of(ENCODINGS[name], kv("gen_ai.response.model", text("m"))))
    same_from_wire(body_of(kv("gen_ai.response.model", text("m")), ENCODINGS[name]))


def test_a_status_sent_twice_is_merged_as_the_runtime_merges_it() -> None:
    first = field(15, b"\x18\x02")  # code: error
    second = field(15, field(2, b"boom"))  # message
    same_from_wire(body_of(status=first + second))
    same_from_wire(body_of(kv("gen_ai.operation.name", text("tool")), status=second + first))


def test_the_reader_keeps_wanted_values_and_folds_the_other_keys() -> None:
    reader = Reader([b"user.id"])
    found = reader.read(
        [kv("user.id", text("u")), kv("llm.prompts.0", text("p")), kv("x", text("y"))]
    )
    assert found == {b"user.id": "u", PROMPTED: None, OTHER: None}
    assert len(reader.memo) == 3
    assert reader.read([kv("user.id", text("u"))]) == {b"user.id": "u"}  # from the memo


def test_the_attribute_memo_starts_afresh_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rawattrs, "MEMO_ENTRIES", 4)
    options = OtlpOptions(source_module="memo-test")
    request = traces(*[span({**GENAI, "user.id": f"user-{k}"}, span_id=k + 1) for k in range(9)])
    same(request, options)
    same(request, options)
    reader = rawattrs.Reader([b"user.id"])
    for k in range(9):
        reader.read([kv("user.id", text(f"user-{k}"))])
        assert len(reader.memo) <= 4


def test_long_encodings_are_not_remembered() -> None:
    reader = Reader([b"user.id"])
    assert reader.read([kv("user.id", text("u" * 200))]) == {b"user.id": "u" * 200}
    assert reader.memo == {}


def test_the_plan_memo_starts_afresh_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastspans, "_PLANS", 2)
    options = OtlpOptions(source_module="plan-test")
    spans = [span({**CHAT, f"attr.{k}": "v", "user.id": k}, span_id=k + 1) for k in range(5)]
    same(traces(*spans), options)
    same(traces(*spans), options)


def original_derived_uuid(kind: bytes, *parts: bytes) -> str:
    """``ids.derived_uuid`` as it was first written, one update per piece."""
    h = hashlib.blake2b(kind, digest_size=16)
    for part in parts:
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    raw = bytearray(h.digest())
    raw[6] = (raw[6] & 0x0F) | 0x80
    raw[8] = (raw[8] & 0x3F) | 0x80
    d = raw.hex()
    return f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:]}"


def test_event_ids_are_the_ones_derived_before() -> None:
    for _ in range(200):
        trace_id, span_id = os.urandom(16), os.urandom(8)
        expected = original_derived_uuid(b"otlp-span", trace_id, span_id)
        assert span_event_id(trace_id, span_id) == expected
        assert fastspans.span_event_id(trace_id, span_id) == expected
        parts = [os.urandom(n) for n in (0, 3, 40)]
        assert derived_uuid(b"otlp-log", *parts) == original_derived_uuid(b"otlp-log", *parts)
    assert span_event_id(TRACE, (1).to_bytes(8, "big")) == original_derived_uuid(
        b"otlp-span", TRACE, (1).to_bytes(8, "big")
    )


@pytest.mark.parametrize("n", [0, 1, 2, 500])
def test_ids_formatted_together_are_those_formatted_one_by_one(n: int) -> None:
    digests = [hashlib.blake2b(os.urandom(24), digest_size=16) for _ in range(n)]
    assert uuid_texts([d.digest() for d in digests]) == [uuid_text(d.hexdigest()) for d in digests]
    edges = [bytes(16), b"\xff" * 16]
    assert uuid_texts(edges) == [uuid_text(d.hex()) for d in edges]
