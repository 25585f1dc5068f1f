"""Finished gRPC calls are exported at ``/metrics`` by method and status code."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from analytics_hub.api.metrics import HubMetrics

PUBLISH = "/analytics_hub.v1.IngestService/PublishBatch"


def test_each_finished_call_is_counted_under_its_method_and_code() -> None:
    metrics = HubMetrics()
    metrics.grpc_call(PUBLISH, "OK")
    metrics.grpc_call(PUBLISH, "OK")
    metrics.grpc_call(PUBLISH, "RESOURCE_EXHAUSTED")
    metrics.grpc_call("unknown", "UNIMPLEMENTED")
    counts = {
        (s.labels["method"], s.labels["code"]): s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
        if s.name == "hub_grpc_requests_total"
    }
    assert counts == {
        (PUBLISH, "OK"): 2,
        (PUBLISH, "RESOURCE_EXHAUSTED"): 1,
        ("unknown", "UNIMPLEMENTED"): 1,
    }
