"""gRPC end to end against ``analytics-hub serve``: the native IngestService with a
streaming client, OTLP/gRPC partial success, and clean statuses for bad credentials and
bad bytes. (The SDK's OTLP/gRPC exporter runs in the transport-parametrised tests of
test_otlp.py, with the same assertions as OTLP/HTTP.)
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans
from prometheus_client.parser import text_string_to_metric_families
from tests.e2e.harness import Hub

from analytics_hub.api.grpc.v1 import ingest_pb2, ingest_pb2_grpc
from analytics_hub.testing.envelopes import llm_call
from analytics_hub.testing.hubprocess import HubProcess

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
PUBLISH = "/analytics_hub.v1.IngestService/PublishBatch"


@pytest.fixture(scope="module")
def channel(hub: Hub) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(hub.grpc_target) as ch:
        yield ch


def _bearer(hub: Hub, who: str = "acme:ingest") -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {hub.keys[who]}"),)


def _event(asset: str, **fields: Any) -> bytes:
    return json.dumps(llm_call(asset_id=asset, **fields)).encode()


def _query(hub: Hub, tenant: str, asset: str) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    query = {
        "time_range": {
            "from": (now - timedelta(minutes=10)).isoformat(),
            "to": (now + timedelta(minutes=1)).isoformat(),
        },
        "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
        "group_by": ["model_id"],
        "aggregates": [
            {"fn": "count", "as": "calls"},
            {"fn": "sum", "field": "input_tokens", "as": "input"},
        ],
        "order_by": [{"field": "model_id"}],
    }
    with hub.client(tenant, "read") as c:
        r = c.post("/api/v1/query", json=query)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["rows"]
    return rows


def test_a_stream_is_acked_batch_by_batch_in_order_with_per_event_errors(
    hub: Hub, channel: grpc.Channel
) -> None:
    asset = f"grpc-stream-{uuid.uuid4().hex[:8]}"
    marker = uuid.uuid4().hex
    batches = [
        ingest_pb2.EventBatch(
            batch_id="b0", events=[_event(asset, model_id="m-a", input_tokens=10) for _ in "abc"]
        ),
        ingest_pb2.EventBatch(
            batch_id="b1",
            events=[
                _event(asset, model_id="m-b", input_tokens=20),
                _event(asset, model_id="m-b", input_tokens=-5),  # invalid: negative
                f"not json {marker}".encode(),  # not JSON at all
                _event(asset, model_id="m-b", input_tokens=20),
            ],
        ),
        ingest_pb2.EventBatch(batch_id="b2", events=[]),  # nothing: still acked
        ingest_pb2.EventBatch(
            batch_id="b3", events=[_event(asset, model_id="m-c", input_tokens=30) for _ in "ab"]
        ),
    ]
    for batch in batches:
        batch.wait_visible = True  # each ack once queries see its batch
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    acks = list(stub.StreamEvents(iter(batches), metadata=_bearer(hub), timeout=30))

    assert [(a.batch_id, a.accepted, a.rejected) for a in acks] == [
        ("b0", 3, 0),
        ("b1", 2, 2),
        ("b2", 0, 0),
        ("b3", 2, 0),
    ]
    errors = [(e.index, e.field, e.message[:14]) for e in acks[1].errors]
    assert errors[0][:2] == (1, "payload.data.input_tokens")
    assert errors[1] == (2, "", "not valid JSON")
    assert _query(hub, "acme", asset) == [
        {"model_id": "m-a", "calls": 3, "input": 30},
        {"model_id": "m-b", "calls": 2, "input": 40},
        {"model_id": "m-c", "calls": 2, "input": 60},
    ]
    # the rejected events are dead letters, kept as they were sent
    with hub.client("acme", "read") as c:
        r = c.get("/api/v1/dead-letters", params={"limit": 1000})
    assert r.status_code == 200, r.text
    assert [d["raw"] for d in r.json()["items"] if marker in d["raw"]] == [f"not json {marker}"]


def test_publish_batch_authenticates_with_x_api_key_and_stores_for_the_key_tenant(
    hub: Hub, channel: grpc.Channel
) -> None:
    asset = f"grpc-publish-{uuid.uuid4().hex[:8]}"
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    batch = ingest_pb2.EventBatch(
        batch_id="one", events=[_event(asset, model_id="m", input_tokens=7)], wait_visible=True
    )
    ack = stub.PublishBatch(batch, metadata=(("x-api-key", hub.keys["globex:ingest"]),))
    assert (ack.batch_id, ack.accepted, ack.rejected, list(ack.errors)) == ("one", 1, 0, [])
    assert _query(hub, "globex", asset) == [{"model_id": "m", "calls": 1, "input": 7}]
    assert _query(hub, "acme", asset) == []  # another tenant sees nothing


def test_otlp_grpc_reports_rejected_spans_as_partial_success(
    hub: Hub, channel: grpc.Channel
) -> None:
    request = trace_service_pb2.ExportTraceServiceRequest(resource_spans=[ResourceSpans()])
    scope = request.resource_spans[0].scope_spans.add()
    for span_id, attributes in ((1, {"gen_ai.request.model": "gpt-4o"}), (2, {})):
        span = scope.spans.add(
            trace_id=uuid.uuid4().bytes, span_id=span_id.to_bytes(8, "big"), name="chat"
        )
        span.start_time_unix_nano = int(datetime.now(UTC).timestamp() * 1e9)
        span.end_time_unix_nano = span.start_time_unix_nano + 1_000_000
        span.attributes.add(key="gen_ai.operation.name").value.string_value = "chat"
        for key, value in attributes.items():
            span.attributes.add(key=key).value.string_value = value
    stub = trace_service_pb2_grpc.TraceServiceStub(channel)
    response = stub.Export(request, metadata=_bearer(hub), timeout=30)
    assert response.partial_success.rejected_spans == 1
    assert "#1 attributes.gen_ai.request.model" in response.partial_success.error_message


def _code(call: Any, *args: Any, **kwargs: Any) -> tuple[grpc.StatusCode, str]:
    """The status a call failed with (a stream's comes at its end)."""
    try:
        result = call(*args, **kwargs)
        if hasattr(result, "__iter__"):
            list(result)
    except grpc.RpcError as exc:
        error: Any = exc
        return error.code(), error.details()
    raise AssertionError(f"{call} succeeded")


def test_bad_credentials_and_bad_bytes_get_clean_statuses_and_the_hub_stays_up(
    hub: Hub, channel: grpc.Channel
) -> None:
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    batch = ingest_pb2.EventBatch(batch_id="x", events=[_event("grpc-refused")])
    unknown = "hub_AAAAAAAAAAAA_" + "A" * 43
    for metadata in ((), (("authorization", f"Bearer {unknown}"),), (("x-api-key", "nope"),)):
        code, _ = _code(stub.PublishBatch, batch, metadata=metadata)
        assert code is grpc.StatusCode.UNAUTHENTICATED
        code, _ = _code(stub.StreamEvents, iter([batch]), metadata=metadata)
        assert code is grpc.StatusCode.UNAUTHENTICATED
    code, details = _code(stub.PublishBatch, batch, metadata=_bearer(hub, "acme:read"))
    assert code is grpc.StatusCode.PERMISSION_DENIED
    assert "needs 'ingest'" in details

    # raw bytes: what a broken client or a hostile one sends
    raw_publish = channel.unary_unary(PUBLISH)
    raw_export = channel.unary_unary(TRACE_EXPORT)
    whole = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[ResourceSpans()]
    ).SerializeToString()
    for call, raw in (
        (raw_publish, b"\x12\xff\xff\xff\x0f"),
        (raw_export, b"\x0a\x80\x80\x80\x80\x10garbage"),
        (raw_export, whole[:-1]),
    ):
        code, details = _code(call, raw, metadata=_bearer(hub))
        assert code is grpc.StatusCode.INVALID_ARGUMENT, details
        assert "not a valid" in details

    # a stream: the good batch is acked, then the garbage ends it
    raw_stream = channel.stream_stream("/analytics_hub.v1.IngestService/StreamEvents")
    good = ingest_pb2.EventBatch(batch_id="good", events=[_event("grpc-stream-garbage")])
    responses = raw_stream(iter([good.SerializeToString(), b"\xff\xff"]), metadata=_bearer(hub))
    acks: list[ingest_pb2.BatchAck] = []
    with pytest.raises(grpc.RpcError) as caught:
        acks.extend(ingest_pb2.BatchAck.FromString(r) for r in responses)
    assert [a.batch_id for a in acks] == ["good"]
    error: Any = caught.value
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("batch #1 of the stream")

    # metrics: a wrong key is refused, an empty request is a success with nothing to say
    metrics = metrics_service_pb2_grpc.MetricsServiceStub(channel)
    empty = metrics_service_pb2.ExportMetricsServiceRequest()
    code, _ = _code(metrics.Export, empty, metadata=[("x-api-key", "not-a-key")])
    assert code is grpc.StatusCode.UNAUTHENTICATED
    answer = metrics.Export(empty, metadata=_bearer(hub), timeout=30)
    assert not answer.HasField("partial_success")

    # still serving both front ends
    assert httpx.get(f"{hub.url}/readyz", timeout=5).status_code == 200
    ack = stub.PublishBatch(batch, metadata=_bearer(hub), timeout=30)
    assert (ack.accepted, ack.rejected) == (1, 0)


def _grpc_calls(hub: Hub) -> dict[tuple[str, str], float]:
    text = httpx.get(f"{hub.url}/metrics", timeout=10).text
    return {
        (s.labels["method"], s.labels["code"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "hub_grpc_requests_total"
    }


def test_finished_calls_are_counted_by_method_and_status_code(
    hub: Hub, channel: grpc.Channel
) -> None:
    before = _grpc_calls(hub)
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    batch = ingest_pb2.EventBatch(batch_id="m", events=[_event("grpc-metrics")])
    stub.PublishBatch(batch, metadata=_bearer(hub), timeout=30)
    stub.PublishBatch(batch, metadata=_bearer(hub), timeout=30)  # a replay: still OK
    code, _ = _code(stub.PublishBatch, batch, metadata=(("x-api-key", "nope"),))
    assert code is grpc.StatusCode.UNAUTHENTICATED
    acks = list(stub.StreamEvents(iter([batch, batch]), metadata=_bearer(hub), timeout=30))
    assert len(acks) == 2
    raw_stream = channel.stream_stream("/analytics_hub.v1.IngestService/StreamEvents")
    code, _ = _code(raw_stream, iter([b"\xff\xff"]), metadata=_bearer(hub))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    for name in ("/analytics_hub.v1.IngestService/Nope", "/made.up.Service/Method"):
        code, _ = _code(channel.unary_unary(name), b"", metadata=_bearer(hub))
        assert code is grpc.StatusCode.UNIMPLEMENTED

    after = _grpc_calls(hub)
    grown = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    stream = "/analytics_hub.v1.IngestService/StreamEvents"
    assert grown == {
        (PUBLISH, "OK"): 2,
        (PUBLISH, "UNAUTHENTICATED"): 1,
        (stream, "OK"): 1,
        (stream, "INVALID_ARGUMENT"): 1,
        # never the name a client sent: clients cannot grow the label set
        ("unknown", "UNIMPLEMENTED"): 2,
    }


def test_a_stream_the_client_cancels_is_counted_cancelled(hub: Hub, channel: grpc.Channel) -> None:
    stream = ("/analytics_hub.v1.IngestService/StreamEvents", "CANCELLED")
    before = _grpc_calls(hub).get(stream, 0)
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    batch = ingest_pb2.EventBatch(batch_id="c", events=[_event("grpc-cancel")])
    hold = threading.Event()

    def batches() -> Iterator[ingest_pb2.EventBatch]:
        yield batch
        hold.wait(30)  # the stream stays open until the client cancels it

    call = stub.StreamEvents(batches(), metadata=_bearer(hub), timeout=30)
    assert next(call).batch_id == "c"
    call.cancel()
    hold.set()
    deadline = time.monotonic() + 10
    while _grpc_calls(hub).get(stream, 0) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _grpc_calls(hub).get(stream, 0) == before + 1


def test_a_taken_grpc_port_stops_the_hub_from_starting(tmp_path: Path) -> None:
    """As a taken HTTP port does: no hub that silently lacks its gRPC listener."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        proc = HubProcess(data_dir=tmp_path / "hub", otlp_grpc_port=holder.getsockname()[1])
        with pytest.raises(RuntimeError, match="hub exited"):
            proc.start()
    log = (proc.data_dir / "server.log").read_text()
    assert "cannot listen for gRPC" in log
    assert "--otlp-grpc-port" in log
