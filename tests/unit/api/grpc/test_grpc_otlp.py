"""OTLP/gRPC servicers: partial success in the response, every failure a status code."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from tests.unit.ingest.otlp.builders import log_record, logs, normalizer, span, traces
from tests.unit.ingest.otlp.metric_builders import metric, number, request

from analytics_hub.api.grpc.otlp import OtlpServicer
from analytics_hub.api.grpc.status import RETRY_INFO_KEY, STATUS_DETAILS_KEY
from analytics_hub.errors import BackpressureError, HubError, UnavailableError
from analytics_hub.ingest.otlp import OtlpOptions, OtlpReceiver
from analytics_hub.ingest.otlp.metric_receiver import OtlpMetricsReceiver
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.store.metric_points import PointSelection

from .fakes import INGEST_KEY, READ_KEY, Aborted, FakeContext, FakeIngest, FakeKeys, bearer, method

TRACES = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
LOGS = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
METRICS = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
}


_STORES: list[DuckDBStore] = []


@pytest.fixture(autouse=True)
def points_store(tmp_path: Path) -> Iterator[DuckDBStore]:
    """The store metric points go to (a real one, in a temporary file)."""
    store = DuckDBStore(tmp_path / "events.duckdb", threads=1)
    store.migrate()
    _STORES.append(store)
    yield store
    _STORES.remove(store)
    store.close()


def _export(
    path: str,
    raw: bytes,
    context: FakeContext,
    error: HubError | None = None,
    options: OtlpOptions | None = None,
) -> object:
    receiver = OtlpReceiver(FakeIngest(error), normalizer(), options or OtlpOptions())  # type: ignore[arg-type]
    metrics = OtlpMetricsReceiver(_STORES[-1], options or OtlpOptions())
    handler = method(OtlpServicer(FakeKeys(), receiver, metrics).handlers(), path)
    return asyncio.run(handler.unary_unary(raw, context))


def _aborted(path: str, raw: bytes, context: FakeContext, **kwargs: object) -> FakeContext:
    with pytest.raises(Aborted):
        _export(path, raw, context, **kwargs)  # type: ignore[arg-type]
    return context


def test_stored_spans_answer_an_empty_response() -> None:
    raw = traces(span(CHAT, span_id=1), span({}, name="GET /", span_id=2)).SerializeToString()
    response = _export(TRACES, raw, FakeContext(bearer()))
    assert isinstance(response, ExportTraceServiceResponse)
    assert not response.HasField("partial_success")


def test_rejected_spans_are_reported_as_partial_success() -> None:
    no_model = {"gen_ai.operation.name": "chat"}
    raw = traces(span(CHAT, span_id=1), span(no_model, span_id=2)).SerializeToString()
    response = _export(TRACES, raw, FakeContext(bearer()))
    assert isinstance(response, ExportTraceServiceResponse)
    assert response.partial_success.rejected_spans == 1
    assert "1 of 2 spans rejected" in response.partial_success.error_message
    assert "#1 attributes.gen_ai.request.model" in response.partial_success.error_message


def test_rejected_log_records_are_reported_as_partial_success() -> None:
    deep: object = "leaf"
    for _ in range(40):  # nested past the depth limit: that record is rejected
        deep = [deep]
    raw = logs(log_record(body="ok"), log_record(body=deep)).SerializeToString()
    response = _export(LOGS, raw, FakeContext([("x-api-key", INGEST_KEY)]))
    assert isinstance(response, ExportLogsServiceResponse)
    assert response.partial_success.rejected_log_records == 1
    assert response.partial_success.error_message.startswith("1 of 2 log records rejected")


@pytest.mark.parametrize("path", [TRACES, LOGS])
def test_garbage_and_truncated_protobuf_are_invalid_argument(path: str) -> None:
    whole = traces(span(CHAT, span_id=1)).SerializeToString()
    for raw in (b"\xff\xff\xff\xff", whole[: len(whole) // 2]):
        context = _aborted(path, raw, FakeContext(bearer()))
        assert context.code is grpc.StatusCode.INVALID_ARGUMENT
        assert "not a valid" in context.details


def test_more_spans_than_allowed_is_invalid_argument_not_retried() -> None:
    raw = traces(*(span(CHAT, span_id=i + 1) for i in range(3))).SerializeToString()
    context = _aborted(TRACES, raw, FakeContext(bearer()), options=OtlpOptions(max_items=2))
    assert context.code is grpc.StatusCode.INVALID_ARGUMENT
    assert "more than 2 spans" in context.details


@pytest.mark.parametrize(
    "metadata",
    [
        [],
        [("authorization", "Bearer hub_nosuchkey00_" + "x" * 43)],
        [("authorization", "Basic dXNlcjpwYXNz")],
        [("authorization", "Bearer ")],
        [("x-api-key", "not-a-key")],
    ],
)
@pytest.mark.parametrize("path", [TRACES, LOGS, METRICS])
def test_a_missing_or_bad_key_is_unauthenticated(
    path: str, metadata: list[tuple[str, str]]
) -> None:
    context = _aborted(path, b"", FakeContext(metadata))
    assert context.code is grpc.StatusCode.UNAUTHENTICATED


def test_a_key_without_the_ingest_role_is_permission_denied() -> None:
    context = _aborted(TRACES, b"", FakeContext(bearer(READ_KEY)))
    assert context.code is grpc.StatusCode.PERMISSION_DENIED
    assert "needs 'ingest'" in context.details


def test_backpressure_is_resource_exhausted_with_retry_info() -> None:
    raw = traces(span(CHAT, span_id=1)).SerializeToString()
    error = BackpressureError("pipeline full", retry_after=2.0)
    context = _aborted(TRACES, raw, FakeContext(bearer()), error=error)
    assert (context.code, context.details) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "pipeline full")
    assert set(context.trailing) == {RETRY_INFO_KEY, STATUS_DETAILS_KEY}


def test_an_unavailable_store_is_unavailable() -> None:
    raw = logs(log_record(body="x")).SerializeToString()
    context = _aborted(LOGS, raw, FakeContext(bearer()), error=UnavailableError("shutting down"))
    assert context.code is grpc.StatusCode.UNAVAILABLE


def test_metric_points_are_stored_and_rejected_ones_reported(points_store: DuckDBStore) -> None:
    raw = request(
        metric("gen_ai.server.queue", "gauge", number(3.0)),
        metric("gen_ai.server.load", "gauge", number(math.nan)),
    ).SerializeToString()
    response = _export(METRICS, raw, FakeContext([("x-api-key", INGEST_KEY)]))
    assert isinstance(response, ExportMetricsServiceResponse)
    assert response.partial_success.rejected_data_points == 1
    assert "#1 as_double" in response.partial_success.error_message
    selection = PointSelection("acme", "gen_ai.server.queue", 0, 4 * 10**15)
    assert [p.value for p in points_store.select_metric_points(selection).points] == [3.0]


def test_more_data_points_than_allowed_is_invalid_argument() -> None:
    raw = request(metric("gen_ai.x", "gauge", *(number(i) for i in range(3)))).SerializeToString()
    context = _aborted(METRICS, raw, FakeContext(bearer()), options=OtlpOptions(max_items=2))
    assert context.code is grpc.StatusCode.INVALID_ARGUMENT
    assert "more than 2 data points" in context.details
