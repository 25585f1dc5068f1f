"""The batch API: bodies, per-event errors, raw text of rejects, NDJSON and envelopes."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest

from analytics_hub.errors import DecodeError
from analytics_hub.events import EVENT_SCHEMA, Envelope, EventError, Normalizer

from .builders import RECEIVED, TENANT, body, decode, event, only_error, only_row


def ndjson(normalizer: Normalizer, text: bytes):  # type: ignore[no-untyped-def]
    return normalizer.decode_ndjson(text, tenant_id=TENANT, received_at=RECEIVED)


def json_body(normalizer: Normalizer, text: bytes):  # type: ignore[no-untyped-def]
    return normalizer.decode_json(text, tenant_id=TENANT, received_at=RECEIVED)


def test_a_mixed_batch_keeps_the_valid_events_with_correct_indices(
    normalizer: Normalizer,
) -> None:
    events = [
        event(asset_id="a0"),
        event(data={"input_tokens": -1}),
        event("auth", asset_id="a2"),
        "not an event",
        event(severity="loud"),
        event("custom", asset_id="a5"),
    ]
    batch = decode(normalizer, *events)
    assert batch.total == 6
    assert batch.accepted == 3
    assert batch.table.column("asset_id").to_pylist() == ["a0", "a2", "a5"]
    assert [(e.index, e.field) for e in batch.errors] == [
        (1, "payload.data.input_tokens"),
        (3, ""),
        (4, "severity"),
    ]
    assert sorted(batch.rejected_raw) == [1, 3, 4]
    assert json.loads(batch.rejected_raw[1]) == events[1]
    assert batch.rejected_raw[3] == '"not an event"'


def test_rejected_raw_is_the_exact_text_sent(normalizer: Normalizer) -> None:
    bad = b'{ "timestamp" : "2025-03-03T11:59:00Z",  "odd": [1, 2] }'
    batch = json_body(normalizer, b"[" + body(event())[1:-1] + b", " + bad + b"]")
    assert batch.rejected_raw == {1: bad.decode()}


def test_rejected_raw_after_decoding_is_the_exact_text_too(normalizer: Normalizer) -> None:
    # Rejected after msgspec accepted the event (the age rule): the text is still exact.
    old = event(timestamp="2020-01-01T00:00:00Z")
    text = b"[" + body(event())[1:-1] + b",\n  " + msgspec.json.encode(old) + b"]"
    batch = json_body(normalizer, text)
    assert [(e.index, e.field) for e in batch.errors] == [(1, "timestamp")]
    assert batch.rejected_raw == {1: msgspec.json.encode(old).decode()}


def test_errors_come_sorted_by_index(normalizer: Normalizer) -> None:
    events = [
        event(timestamp="2020-01-01T00:00:00Z"),  # rejected after decoding
        event(severity="loud"),  # rejected while decoding
        event(event_id="nope"),  # rejected after decoding
    ]
    assert [e.index for e in decode(normalizer, *events).errors] == [0, 1, 2]


def test_the_fast_and_the_careful_path_agree(normalizer: Normalizer) -> None:
    good = [event(v, event_id=None) for v in ("llm_call", "threat", "token_cost", "asset")]
    for e in good:
        e.pop("event_id")
    fast = decode(normalizer, *good)
    careful = decode(normalizer, *good, "bad")  # one bad event: every event decoded alone
    assert careful.errors == [EventError(4, "", careful.errors[0].message)]
    drop = ["event_id"]  # generated, so different each time
    assert fast.table.drop(drop).equals(careful.table.drop(drop))


def test_a_single_object_body(normalizer: Normalizer) -> None:
    batch = json_body(normalizer, msgspec.json.encode(event()))
    assert only_row(batch)["model_id"] == "gpt-4o-mini"
    assert batch.total == 1


def test_a_single_invalid_object(normalizer: Normalizer) -> None:
    batch = json_body(normalizer, msgspec.json.encode(event(severity="loud")))
    assert only_error(batch)[0] == "severity"
    assert batch.rejected_raw[0].startswith("{")


def test_an_empty_array_is_an_empty_batch(normalizer: Normalizer) -> None:
    batch = json_body(normalizer, b" [ ] ")
    assert (batch.total, batch.errors, batch.rejected_raw) == (0, [], {})
    assert batch.table.schema.equals(EVENT_SCHEMA)
    assert batch.table.num_rows == 0


def test_whitespace_and_a_bom_around_the_body_are_fine(normalizer: Normalizer) -> None:
    batch = json_body(normalizer, b"\xef\xbb\xbf\n  " + body(event()) + b"\r\n")
    assert batch.accepted == 1


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"hello", "not valid JSON"),
        (b"[{]", "not valid JSON"),
        (b'[{"a": 1}', "not valid JSON"),
        (b'{"a": 1', "not valid JSON"),
        (b"42", "object or a JSON array"),
        (b'"text"', "object or a JSON array"),
        (b"null", "object or a JSON array"),
        (b"[1] [2]", "not valid JSON"),
        (b"[" * 100_000, "deep"),
        (b"\xff\xfe", "not valid"),
    ],
)
def test_a_body_that_is_not_json_raises(normalizer: Normalizer, text: bytes, words: str) -> None:
    with pytest.raises(DecodeError, match=words) as info:
        json_body(normalizer, text)
    assert info.value.status == 400


def test_a_body_nested_too_deeply_raises(normalizer: Normalizer) -> None:
    with pytest.raises(DecodeError, match="deep"):
        json_body(normalizer, b"[" * 5000 + b"]" * 5000)


def test_a_bad_element_does_not_hide_a_malformed_body(normalizer: Normalizer) -> None:
    with pytest.raises(DecodeError, match="not valid JSON"):
        json_body(normalizer, b'[3, {"a": ]')


def test_invalid_utf8_in_one_event_rejects_only_that_event(normalizer: Normalizer) -> None:
    bad = msgspec.json.encode(event(asset_id="XX")).replace(b"XX", b"\xff\xfe")
    text = b"[" + msgspec.json.encode(event()) + b"," + bad + b"]"
    batch = json_body(normalizer, text)
    assert [(e.index, e.field) for e in batch.errors] == [(1, "")]
    assert "UTF-8" in batch.errors[0].message
    assert batch.accepted == 1
    assert "\ufffd" in batch.rejected_raw[1]


def test_ndjson_skips_blank_lines_and_counts_events(normalizer: Normalizer) -> None:
    lines = [
        msgspec.json.encode(event(asset_id="a0")),
        b"",
        b"   ",
        msgspec.json.encode(event(severity="loud")),
        msgspec.json.encode(event(asset_id="a2")) + b"\r",
        b"",
    ]
    batch = ndjson(normalizer, b"\n".join(lines))
    assert batch.total == 3
    assert batch.table.column("asset_id").to_pylist() == ["a0", "a2"]
    assert [(e.index, e.field) for e in batch.errors] == [(1, "severity")]
    assert batch.rejected_raw == {1: lines[3].decode()}


def test_ndjson_with_a_line_that_is_not_json(normalizer: Normalizer) -> None:
    text = msgspec.json.encode(event()) + b"\n{oops\n" + msgspec.json.encode(event())
    batch = ndjson(normalizer, text)
    assert [(e.index, e.field) for e in batch.errors] == [(1, "")]
    assert batch.errors[0].message.startswith("not valid JSON")
    assert batch.rejected_raw[1] == "{oops"
    assert batch.accepted == 2


def test_ndjson_line_smuggling_several_values_is_one_bad_event(normalizer: Normalizer) -> None:
    one = msgspec.json.encode(event())
    batch = ndjson(normalizer, one + b"\n" + one + b"," + one + b"\n" + one)
    assert [e.index for e in batch.errors] == [1]
    assert batch.accepted == 2


def test_ndjson_of_a_json_array_is_one_bad_event(normalizer: Normalizer) -> None:
    batch = ndjson(normalizer, body(event(), event()))
    assert [(e.index, e.field) for e in batch.errors] == [(0, "")]


def test_ndjson_that_is_not_json_at_all_raises(normalizer: Normalizer) -> None:
    with pytest.raises(DecodeError, match="NDJSON"):
        ndjson(normalizer, b"hello\nworld\n")
    with pytest.raises(DecodeError, match="empty"):
        ndjson(normalizer, b"\n\n")


def test_ndjson_with_a_tenant_in_one_line(normalizer: Normalizer) -> None:
    text = msgspec.json.encode(event()) + b"\n" + msgspec.json.encode(event(tenant="x"))
    batch = ndjson(normalizer, text)
    assert [(e.index, e.field) for e in batch.errors] == [(1, "tenant_id")]


@pytest.mark.parametrize("value", [None, "other-co", {"id": "other-co"}, 7])
@pytest.mark.parametrize("key", ["tenant_id", "tenant"])
@pytest.mark.parametrize("shape", ["object", "array", "ndjson"])
def test_a_top_level_tenant_of_any_value_is_refused_in_every_body_shape(
    normalizer: Normalizer, shape: str, key: str, value: object
) -> None:
    claimed = msgspec.json.encode(event(**{key: value}))
    if shape == "object":
        batch = json_body(normalizer, claimed)
    elif shape == "array":
        batch = json_body(normalizer, b"[" + msgspec.json.encode(event()) + b"," + claimed + b"]")
    else:
        batch = ndjson(normalizer, msgspec.json.encode(event()) + b"\n" + claimed)
    at = 0 if shape == "object" else 1
    assert [(e.index, e.field) for e in batch.errors] == [(at, "tenant_id")]
    assert "credential" in batch.errors[0].message
    assert batch.table.column("tenant_id").to_pylist() == [TENANT] * at


def test_normalize_takes_envelopes_from_other_decoders(normalizer: Normalizer) -> None:
    envelopes = [
        msgspec.json.decode(msgspec.json.encode(event(asset_id=f"a{i}")), type=Envelope)
        for i in range(3)
    ]
    batch = normalizer.normalize(envelopes, tenant_id=TENANT, received_at=RECEIVED)
    assert batch.table.column("asset_id").to_pylist() == ["a0", "a1", "a2"]
    assert batch.total == 3


def test_normalize_checks_envelopes_built_in_python(normalizer: Normalizer) -> None:
    good = msgspec.json.decode(msgspec.json.encode(event()), type=Envelope)
    naive = msgspec.structs.replace(good, timestamp=dt.datetime(2025, 3, 3, 11))
    negative = msgspec.structs.replace(
        good,
        payload=msgspec.structs.replace(
            good.payload, data=msgspec.structs.replace(good.payload.data, input_tokens=-5)
        ),
    )
    batch = normalizer.normalize([naive, good, negative], tenant_id=TENANT, received_at=RECEIVED)
    assert [(e.index, e.field) for e in batch.errors] == [
        (0, "timestamp"),
        (2, "payload.data.input_tokens"),
    ]
    assert "no UTC offset" in batch.errors[0].message
    assert json.loads(batch.rejected_raw[2])["payload"]["data"]["input_tokens"] == -5


def test_normalize_of_nothing(normalizer: Normalizer) -> None:
    batch = normalizer.normalize([], tenant_id=TENANT, received_at=RECEIVED)
    assert (batch.total, batch.accepted) == (0, 0)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e.pop("source_module"), "source_module"),
        (lambda e: e.pop("payload"), "payload"),
        (lambda e: e["payload"].pop("data"), "payload.data"),
        (lambda e: e["payload"]["data"].pop("model_id"), "payload.data.model_id"),
        (lambda e: e.update(payload=[]), "payload"),
        (lambda e: e["payload"]["data"].update(provider=3), "payload.data.provider"),
        (lambda e: e.update(environment=None), "environment"),
    ],
)
def test_decoding_errors_carry_the_dotted_field_path(normalizer: Normalizer, mutate, field) -> None:  # type: ignore[no-untyped-def]
    evt = event()
    mutate(evt)
    assert only_error(decode(normalizer, evt))[0] == field


def test_tenant_id_is_the_credentials(normalizer: Normalizer) -> None:
    batch = normalizer.decode_json(body(event()), tenant_id="globex", received_at=RECEIVED)
    assert only_row(batch)["tenant_id"] == "globex"


def test_received_at_in_another_zone_is_the_same_instant(normalizer: Normalizer) -> None:
    paris = RECEIVED.astimezone(dt.timezone(dt.timedelta(hours=1)))
    batch = normalizer.decode_json(body(event()), tenant_id=TENANT, received_at=paris)
    assert only_row(batch)["received_at"] == RECEIVED.replace(tzinfo=None)


def test_big_batches_are_decoded_whole(normalizer: Normalizer) -> None:
    events = [event(v, event_id=None) for v in ("llm_call", "threat", "auth") * 1500]
    for e in events:
        e.pop("event_id")
    batch = decode(normalizer, *events)
    assert batch.accepted == 4500
    assert batch.table.column("payload_subtype").to_pylist()[:3] == ["llm_call", "threat", "auth"]
    assert batch.table.column("event_id").unique().__len__() == 4500


def test_errors_in_later_chunks_of_a_big_batch_keep_their_indices(
    normalizer: Normalizer,
) -> None:
    bad_at = {5: "timestamp", 600: "event_id", 1100: "payload.data.currency"}
    events = []
    for i in range(1200):
        if i == 5:
            events.append(event(asset_id=f"a{i}", timestamp="2020-01-01T00:00:00Z"))
        elif i == 600:
            events.append(event(asset_id=f"a{i}", event_id="nope"))
        elif i == 1100:
            events.append(event("token_cost", asset_id=f"a{i}", data={"currency": "XYZ"}))
        else:
            events.append(event("auth" if i % 3 else "llm_call", asset_id=f"a{i}"))
    batch = decode(normalizer, *events)
    assert [(e.index, e.field) for e in batch.errors] == sorted(bad_at.items())
    kept = [f"a{i}" for i in range(1200) if i not in bad_at]
    assert batch.table.column("asset_id").to_pylist() == kept
    assert sorted(batch.rejected_raw) == sorted(bad_at)
    assert json.loads(batch.rejected_raw[1100])["asset_id"] == "a1100"


def test_normalize_reports_an_envelope_that_cannot_be_encoded(normalizer: Normalizer) -> None:
    good = msgspec.json.decode(msgspec.json.encode(event("custom")), type=Envelope)
    foreign = msgspec.structs.replace(
        good,
        payload=msgspec.structs.replace(
            good.payload, data=msgspec.structs.replace(good.payload.data, data=object())
        ),
    )
    batch = normalizer.normalize([good, foreign, good], tenant_id=TENANT, received_at=RECEIVED)
    assert [(e.index, e.field) for e in batch.errors] == [(1, "")]
    assert "cannot be encoded" in batch.errors[0].message
    assert batch.accepted == 2
