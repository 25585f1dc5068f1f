"""The receiver: decode, map, normalise, then store; every error names its span."""

from __future__ import annotations

import asyncio
import base64
import json

from google.protobuf import json_format

from analytics_hub.events import DecodedBatch
from analytics_hub.ingest.otlp import OtlpEncoding, OtlpOptions, OtlpReceiver
from analytics_hub.ingest.service import IngestResult, Published

from .builders import TENANT, log_record, logs, normalizer, span, traces

CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
}


class FakeIngest:
    """Stands in for ``IngestService.publish``/``finish``: keeps what it is given."""

    def __init__(self) -> None:
        self.stored: list[tuple[str, DecodedBatch]] = []

    def admit(self) -> None:
        return None  # never refuses

    def publish(self, tenant_id: str, batch: DecodedBatch) -> Published:
        self.stored.append((tenant_id, batch))
        return Published(batch, None)

    async def finish(self, tenant_id: str, published: Published) -> IngestResult:
        batch = published.batch
        accepted = batch.accepted
        return IngestResult(accepted, batch.total - accepted, batch.errors)


def _receiver(options: OtlpOptions | None = None) -> tuple[OtlpReceiver, FakeIngest]:
    ingest = FakeIngest()
    return OtlpReceiver(ingest, normalizer(), options or OtlpOptions()), ingest  # type: ignore[arg-type]


def test_mapping_and_validation_errors_are_indexed_by_span_and_kept_as_dead_letters() -> None:
    request = traces(
        span(CHAT, span_id=1),
        span({"gen_ai.operation.name": "chat"}, span_id=2),  # no model: the mapping rejects it
        span({**CHAT, "gen_ai.request.model": "m" * 300}, span_id=3),  # the normaliser does
        span({}, name="GET /", span_id=4),
    )
    receiver, ingest = _receiver()
    outcome = asyncio.run(
        receiver.export_traces(TENANT, request.SerializeToString(), OtlpEncoding.PROTOBUF)
    )
    assert (outcome.items, outcome.accepted, outcome.rejected, outcome.dropped) == (4, 2, 2, 0)
    assert [(e.index, e.field) for e in outcome.errors] == [
        (1, "attributes.gen_ai.request.model"),
        (2, "payload.data.model_id"),
    ]
    ((tenant, batch),) = ingest.stored
    assert tenant == TENANT
    assert batch.table.column("span_id").to_pylist() == ["0000000000000001", "0000000000000004"]
    assert sorted(batch.rejected_raw) == [1, 2]
    assert '"otlp_span"' in batch.rejected_raw[1]
    assert '"model_id":"mmm' in batch.rejected_raw[2]  # the mapped event, as normalised
    message = outcome.error_message("spans")
    assert message.startswith("2 of 4 spans rejected")
    assert "#1 attributes.gen_ai.request.model" in message
    assert "#2 payload.data.model_id" in message


def test_protobuf_and_json_store_the_same_rows() -> None:
    request = traces(span(CHAT, span_id=1), span({}, name="GET /", span_id=2, parent=1))
    doc = json_format.MessageToDict(request)
    for s in doc["resourceSpans"][0]["scopeSpans"][0]["spans"]:
        for key in ("traceId", "spanId", "parentSpanId"):
            if key in s:
                s[key] = base64.b64decode(s[key]).hex()  # OTLP/JSON ids are hex
    receiver, ingest = _receiver()
    asyncio.run(receiver.export_traces(TENANT, request.SerializeToString(), OtlpEncoding.PROTOBUF))
    asyncio.run(receiver.export_traces(TENANT, json.dumps(doc).encode(), OtlpEncoding.JSON))
    (_, from_pb), (_, from_json) = ingest.stored
    ignore = {"received_at"}
    names = [n for n in from_pb.table.column_names if n not in ignore]
    assert from_pb.table.select(names).equals(from_json.table.select(names))
    assert from_pb.table.num_rows == 2


def test_dropped_context_spans_are_neither_stored_nor_rejected() -> None:
    receiver, _ingest = _receiver(OtlpOptions(keep_context_spans=False))
    request = traces(span({}, name="GET /", span_id=1), span(CHAT, span_id=2))
    outcome = asyncio.run(
        receiver.export_traces(TENANT, request.SerializeToString(), OtlpEncoding.PROTOBUF)
    )
    assert (outcome.items, outcome.accepted, outcome.rejected, outcome.dropped) == (2, 1, 0, 1)
    assert outcome.error_message("spans") == ""


def test_an_empty_request_stores_nothing_and_rejects_nothing() -> None:
    receiver, ingest = _receiver()
    outcome = asyncio.run(receiver.export_traces(TENANT, b"", OtlpEncoding.PROTOBUF))
    assert (outcome.items, outcome.accepted, outcome.rejected) == (0, 0, 0)
    assert ingest.stored[0][1].total == 0


def test_logs_are_stored_with_per_record_errors() -> None:
    receiver, _ingest = _receiver()
    request = logs(log_record("a"), log_record("b", time=0))
    outcome = asyncio.run(
        receiver.export_logs(TENANT, request.SerializeToString(), OtlpEncoding.PROTOBUF)
    )
    assert (outcome.accepted, outcome.rejected) == (1, 1)
    assert outcome.errors[0].index == 1


def test_the_error_message_lists_a_few_errors_and_counts_the_rest() -> None:
    receiver, _ = _receiver()
    bad = [span({"gen_ai.operation.name": "chat"}, span_id=i + 1) for i in range(8)]
    body = traces(*bad).SerializeToString()
    outcome = asyncio.run(receiver.export_traces(TENANT, body, OtlpEncoding.PROTOBUF))
    message = outcome.error_message("spans")
    assert message.startswith("8 of 8 spans rejected")
    assert message.count("#") == 5
    assert message.endswith("; and 3 more")
