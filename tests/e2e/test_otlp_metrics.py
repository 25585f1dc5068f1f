"""OTLP metrics end to end: the real SDK's MeterProvider exports to ``analytics-hub serve``.

The GenAI client and server metrics are recorded through the SDK's own instruments and
exported by its OTLP metric exporters, over OTLP/HTTP protobuf (gzip, bearer token) and
OTLP/gRPC (gzip, the key in the call metadata), and as OTLP/JSON by a small exporter
here that encodes the SDK's metrics with the SDK's own OTLP encoder (``x-api-key``).
Every transport must give the same figures through ``POST /api/v1/metrics/query``. The
SDK's default temporality is cumulative, so the hub has to turn running totals into
increases; a replayed request must not be counted twice, and another tenant sees nothing.
"""

from __future__ import annotations

import base64
import gzip
import math
import uuid
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import msgspec
import pytest
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetricExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from tests.e2e.harness import Hub

OPENAI = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "server.address": "api.openai.com",
}
ANTHROPIC_DEPRECATED = {
    "gen_ai.operation.name": "chat",
    "gen_ai.system": "anthropic",  # the deprecated name of gen_ai.provider.name
    "gen_ai.request.model": "claude-3-5-sonnet",
}
SERVER = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "llama-3-70b"}
# (provider, request_model, token_type) -> (count, sum, min, max)
EXPECTED_TOKENS = {
    ("anthropic", "claude-3-5-sonnet", "input"): (1, 200.0, 200.0, 200.0),
    ("openai", "gpt-4o", "input"): (2, 400.0, 100.0, 300.0),
    ("openai", "gpt-4o", "output"): (1, 50.0, 50.0, 50.0),
}
GENAI_METRICS = {
    "gen_ai.client.token.usage": "{token}",
    "gen_ai.client.operation.duration": "s",
    "gen_ai.server.request.duration": "s",
    "gen_ai.server.time_to_first_token": "s",
    "gen_ai.server.time_per_output_token": "s",
}


class OtlpJsonMetricExporter(MetricExporter):
    """OTLP/HTTP JSON: the SDK's OTLP encoding of its metrics, written as OTLP/JSON."""

    def __init__(self, endpoint: str, headers: dict[str, str]) -> None:
        super().__init__()
        self._endpoint = endpoint
        self._headers = {**headers, "Content-Type": "application/json"}
        self.responses: list[httpx.Response] = []

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        doc = json_format.MessageToDict(encode_metrics(metrics_data))
        for rm in doc.get("resourceMetrics", []):
            for sm in rm.get("scopeMetrics", []):
                for m in sm.get("metrics", []):
                    for data in m.values():
                        for dp in data.get("dataPoints", []) if isinstance(data, dict) else []:
                            for ex in dp.get("exemplars", []):
                                for key in ("traceId", "spanId"):  # hex in OTLP/JSON
                                    if key in ex:
                                        ex[key] = base64.b64decode(ex[key]).hex()
        r = httpx.post(self._endpoint, content=msgspec.json.encode(doc), headers=self._headers)
        self.responses.append(r)
        return MetricExportResult.SUCCESS if r.status_code == 200 else MetricExportResult.FAILURE

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


def _exporter(hub: Hub, transport: str, key: str) -> MetricExporter:
    if transport == "grpc":
        return GrpcMetricExporter(
            endpoint=hub.grpc_target,
            insecure=True,
            headers={"authorization": f"Bearer {key}"},
            compression=grpc.Compression.Gzip,
        )
    if transport == "protobuf":
        return OTLPMetricExporter(
            endpoint=f"{hub.url}/v1/metrics",
            headers={"Authorization": f"Bearer {key}"},
            compression=Compression.Gzip,
        )
    return OtlpJsonMetricExporter(f"{hub.url}/v1/metrics", {"x-api-key": key})


def _record(provider: MeterProvider) -> None:
    """What an LLM app and an LLM server record, exported twice (cumulative totals)."""
    meter = provider.get_meter("tests.e2e.otlp_metrics")
    usage = meter.create_histogram("gen_ai.client.token.usage", unit="{token}")
    duration = meter.create_histogram("gen_ai.client.operation.duration", unit="s")
    server = {name: meter.create_histogram(name, unit="s") for name in list(GENAI_METRICS)[2:]}
    requests = meter.create_counter("http.client.request.count")  # not GenAI: not kept
    usage.record(100, {**OPENAI, "gen_ai.token.type": "input"})
    usage.record(50, {**OPENAI, "gen_ai.token.type": "output"})
    usage.record(200, {**ANTHROPIC_DEPRECATED, "gen_ai.token.type": "input"})
    duration.record(0.8, OPENAI)
    for name, histogram in server.items():
        histogram.record(0.25 if "token" in name else 1.5, SERVER)
    requests.add(7)
    provider.force_flush()
    usage.record(300, {**OPENAI, "gen_ai.token.type": "input"})
    duration.record(2.5, {**OPENAI, "error.type": "timeout"})
    provider.shutdown()  # exports the totals once more


def _window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(minutes=5)).isoformat(),
    }


def _query(hub: Hub, metric: str, asset: str, group_by: Sequence[str], tenant: str = "acme") -> Any:
    body = {
        "metric": metric,
        "time_range": _window(),
        "bucket": "1d",
        "group_by": list(group_by),
        "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
    }
    with hub.client(tenant, "read") as c:
        r = c.post("/api/v1/metrics/query", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _totals(result: Mapping[str, Any]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Per group: (count, sum, min, max) over every bucket (a day may end mid-test)."""
    merged: dict[tuple[Any, ...], list[Any]] = {}
    for row in result["rows"]:
        key = tuple(row["group"].values())
        now = merged.setdefault(key, [0, 0.0, math.inf, -math.inf])
        now[0] += row["count"]
        now[1] += row["sum"]
        now[2] = min(now[2], row["min"])
        now[3] = max(now[3], row["max"])
    return {k: (v[0], round(v[1], 6), v[2], v[3]) for k, v in merged.items()}


@pytest.mark.parametrize("transport", ["protobuf", "json", "grpc"])
def test_sdk_genai_metrics_are_queryable_the_same_over_every_transport(
    hub: Hub, transport: str
) -> None:
    asset = f"otlp-metrics-{transport}-{uuid.uuid4().hex[:8]}"
    exporter = _exporter(hub, transport, hub.keys["acme:ingest"])
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(
        resource=Resource.create({"service.name": asset, "deployment.environment.name": "dev"}),
        metric_readers=[reader],
    )
    _record(provider)
    if isinstance(exporter, OtlpJsonMetricExporter):
        assert {r.status_code for r in exporter.responses} == {200}
        assert all(r.headers["content-type"] == "application/json" for r in exporter.responses)
        assert all(r.json() == {} for r in exporter.responses)  # nothing rejected

    tokens = _query(
        hub, "gen_ai.client.token.usage", asset, ["provider", "request_model", "token_type"]
    )
    assert (tokens["unit"], tokens["kinds"]) == ("{token}", ["histogram"])
    assert _totals(tokens) == EXPECTED_TOKENS
    if len(tokens["rows"]) == len(EXPECTED_TOKENS):  # one day bucket: percentiles too
        anthropic = next(r for r in tokens["rows"] if r["group"]["provider"] == "anthropic")
        assert anthropic["p50"] == anthropic["p99"] == 200.0  # clamped to min and max

    durations = _totals(_query(hub, "gen_ai.client.operation.duration", asset, ["error_type"]))
    assert durations == {(None,): (1, 0.8, 0.8, 0.8), ("timeout",): (1, 2.5, 2.5, 2.5)}
    for name in list(GENAI_METRICS)[2:]:
        server = _totals(_query(hub, name, asset, ["request_model", "operation"]))
        value = 0.25 if "token" in name else 1.5
        assert server == {("llama-3-70b", "chat"): (1, value, value, value)}, name

    with hub.client("acme", "read") as c:
        names = c.get("/api/v1/metrics/names").json()["metrics"]
    units = {m["name"]: m["unit"] for m in names}
    assert {n: units.get(n) for n in GENAI_METRICS} == GENAI_METRICS
    assert "http.client.request.count" not in units


def _encoded_request(asset: str) -> bytes:
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        resource=Resource.create({"service.name": asset}), metric_readers=[reader]
    )
    usage = provider.get_meter("replay").create_histogram("gen_ai.client.token.usage")
    usage.record(120, {**OPENAI, "gen_ai.token.type": "input"})
    data = reader.get_metrics_data()
    assert data is not None
    return bytes(encode_metrics(data).SerializeToString())


def test_a_replayed_request_is_not_counted_twice_and_other_tenants_see_nothing(
    hub: Hub,
) -> None:
    asset = f"otlp-metrics-replay-{uuid.uuid4().hex[:8]}"
    body = _encoded_request(asset)
    headers = {"Content-Type": "application/x-protobuf", "x-api-key": hub.keys["acme:ingest"]}
    for _ in range(2):
        r = httpx.post(f"{hub.url}/v1/metrics", content=body, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/x-protobuf"
        assert r.content == b""  # nothing rejected
    gzipped = {**headers, "Content-Encoding": "gzip"}
    assert httpx.post(
        f"{hub.url}/v1/metrics", content=gzip.compress(body), headers=gzipped
    ).is_success
    with grpc.insecure_channel(hub.grpc_target) as channel:
        stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
        request = metrics_service_pb2.ExportMetricsServiceRequest.FromString(body)
        stub.Export(request, metadata=[("x-api-key", hub.keys["acme:ingest"])], timeout=30)

    totals = _totals(_query(hub, "gen_ai.client.token.usage", asset, ["token_type"]))
    assert totals == {("input",): (1, 120.0, 120.0, 120.0)}

    assert _query(hub, "gen_ai.client.token.usage", asset, [], tenant="globex")["rows"] == []
    with hub.client("globex", "read") as c:
        assert c.get("/api/v1/metrics/names").json() == {"metrics": []}


def _gzip_bomb(size: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\x00" * (1 << 20)
    return b"".join(comp.compress(chunk) for _ in range(size >> 20)) + comp.flush()


def test_bad_metrics_requests_get_otlp_answers(hub: Hub) -> None:
    headers = {"Content-Type": "application/x-protobuf", "x-api-key": hub.keys["acme:ingest"]}
    bomb = {**headers, "Content-Encoding": "gzip"}
    r = httpx.post(f"{hub.url}/v1/metrics", content=_gzip_bomb(64 << 20), headers=bomb)
    assert r.status_code == 413
    assert status_pb2.Status.FromString(r.content).code == 8
    r = httpx.post(f"{hub.url}/v1/metrics", content=b"\xff\xff\xff\xff", headers=headers)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/x-protobuf"
    assert status_pb2.Status.FromString(r.content).code == 3

    now = str(int(datetime.now(UTC).timestamp() * 1e9))
    gauge = {"name": "gen_ai.server.queue", "gauge": {"dataPoints": [
        {"timeUnixNano": now, "asDouble": 3.0},
        {"timeUnixNano": now, "asDouble": "NaN", "attributes": [
            {"key": "k", "value": {"stringValue": "v"}}]},
    ]}}  # fmt: skip
    body = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [gauge]}]}]}
    json_headers = {**headers, "Content-Type": "application/json"}
    r = httpx.post(f"{hub.url}/v1/metrics", content=msgspec.json.encode(body), headers=json_headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    partial = r.json()["partialSuccess"]
    assert partial["rejectedDataPoints"] == "1"
    assert partial["errorMessage"].startswith("1 of 2 data points rejected: #1 as_double")
