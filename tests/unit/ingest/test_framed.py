"""Separately framed events (the native gRPC batch): every error at its element's index."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from analytics_hub.errors import PayloadTooLargeError
from analytics_hub.events import DecodedBatch, Normalizer
from analytics_hub.ingest.framed import FramedReceiver
from analytics_hub.ingest.service import IngestResult, IngestService, Published
from analytics_hub.testing.envelopes import llm_call


class StoringIngest(IngestService):
    """The real decoding of ``IngestService``; ``publish`` keeps the batch instead."""

    def __init__(self, max_batch_events: int = 100) -> None:
        normalizer = Normalizer(currency_rates={"USD": 1.0})
        super().__init__(normalizer, None, max_batch_events=max_batch_events)  # type: ignore[arg-type]
        self.stored: list[tuple[str, DecodedBatch, bool]] = []

    def admit(self) -> None:
        return None  # no pipeline here: never refuses

    def publish(self, tenant_id: str, batch: DecodedBatch, *, visible: bool = False) -> Published:
        self.stored.append((tenant_id, batch, visible))
        return Published(batch, None, visible)

    async def finish(self, tenant_id: str, published: Published) -> IngestResult:
        batch = published.batch
        return IngestResult(batch.accepted, batch.total - batch.accepted, batch.errors)


def _event(**fields: Any) -> bytes:
    return json.dumps(llm_call(**fields)).encode()


def _decode(*events: bytes, max_batch_events: int = 100) -> DecodedBatch:
    return FramedReceiver(StoringIngest(max_batch_events)).decode("acme", list(events))


def test_valid_events_are_all_accepted_in_order() -> None:
    batch = _decode(*(_event(model_id=f"m-{i}") for i in range(3)))
    assert (batch.accepted, batch.total, batch.errors) == (3, 3, [])
    assert batch.table.column("model_id").to_pylist() == ["m-0", "m-1", "m-2"]
    assert set(batch.table.column("tenant_id").to_pylist()) == {"acme"}


def test_an_invalid_event_is_rejected_at_its_index_and_kept_whole() -> None:
    bad = _event(input_tokens=-1)
    batch = _decode(_event(), bad, _event())
    assert (batch.accepted, batch.total) == (2, 3)
    assert [(e.index, e.field) for e in batch.errors] == [(1, "payload.data.input_tokens")]
    assert batch.rejected_raw == {1: bad.decode()}


def test_elements_that_are_not_one_json_value_are_rejected_alone() -> None:
    events = [_event(), b"", b"{not json", b"\xff\xfe", b"[1] [2]", _event()]
    batch = _decode(*events)
    assert (batch.accepted, batch.total) == (2, 6)
    assert [(e.index, e.field) for e in batch.errors] == [(1, ""), (2, ""), (3, ""), (4, "")]
    assert batch.errors[0].message.startswith("empty")
    assert all(e.message.startswith("not valid JSON") for e in batch.errors[1:])
    # the dead letters keep what was sent, not the placeholder decoded in its place
    assert batch.rejected_raw[2] == "{not json"


def test_elements_that_only_make_json_together_do_not_shift_the_indices() -> None:
    """``"a`` and ``b", {...}`` join into a valid array of the right length: each is
    still rejected at its own index and the events after them keep theirs."""
    events = [_event(model_id="first"), b'"a', b'b", {"x": 1}', _event(model_id="last")]
    batch = _decode(*events)
    assert batch.total == 4
    assert [(e.index, e.message[:14]) for e in batch.errors] == [
        (1, "not valid JSON"),
        (2, "not valid JSON"),
    ]
    assert batch.rejected_raw == {1: '"a', 2: 'b", {"x": 1}'}
    assert batch.table.column("model_id").to_pylist() == ["first", "last"]


def test_pretty_printed_events_and_surrounding_whitespace_are_fine() -> None:
    pretty = json.dumps(llm_call(), indent=2).encode()
    batch = _decode(pretty, b"  \n" + _event() + b"\r\n")
    assert (batch.accepted, batch.errors) == (2, [])


def test_a_tenant_in_the_event_is_refused_as_over_rest() -> None:
    with_tenant = json.dumps({**llm_call(), "tenant_id": "globex"}).encode()
    batch = _decode(_event(), with_tenant)
    assert [(e.index, e.field) for e in batch.errors] == [(1, "tenant_id")]


def test_an_empty_batch_is_nothing_to_store() -> None:
    batch = _decode()
    assert (batch.accepted, batch.total, batch.errors) == (0, 0, [])


def test_more_events_than_a_request_may_carry_is_refused() -> None:
    with pytest.raises(PayloadTooLargeError):
        _decode(*([_event()] * 3), max_batch_events=2)


def test_ingest_stores_the_decoded_batch_for_the_tenant() -> None:
    ingest = StoringIngest()
    result = asyncio.run(FramedReceiver(ingest).ingest("acme", [_event(), b"{}"], visible=True))
    assert (result.accepted, result.rejected) == (1, 1)
    ((tenant, batch, visible),) = ingest.stored
    assert (tenant, batch.accepted, visible) == ("acme", 1, True)
