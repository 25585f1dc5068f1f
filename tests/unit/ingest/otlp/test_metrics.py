"""OTLP metric data points -> metric points: every kind, GenAI columns, hostile input."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import SummaryDataPoint

from analytics_hub.ingest.otlp import OtlpOptions
from analytics_hub.ingest.otlp.metrics import MappedPoints, map_metrics

from .builders import value
from .metric_builders import (
    CUMULATIVE,
    DELTA,
    NOW_NS,
    START,
    TOKEN_ATTRS,
    WINDOW,
    exponential_point,
    histogram_point,
    metric,
    number,
    request,
)

TENANT = "acme"
US = 1000  # nanoseconds


def _map(*metrics: Any, options: OtlpOptions | None = None, **kwargs: Any) -> MappedPoints:
    return map_metrics(request(*metrics, **kwargs), TENANT, WINDOW, options or OtlpOptions())


def _one(*metrics: Any, **kwargs: Any) -> Any:
    mapped = _map(*metrics, **kwargs)
    assert mapped.errors == []
    assert len(mapped.points) == 1
    return mapped.points[0]


def _rejected(point_metric: Any, *, options: OtlpOptions | None = None) -> tuple[str, str]:
    """Map ``point_metric`` beside a good gauge; the one error, as (field, message)."""
    good = metric("gen_ai.server.queue", "gauge", number(1))
    mapped = _map(good, point_metric, options=options)
    assert [p.metric_name for p in mapped.points] == ["gen_ai.server.queue"]
    assert len(mapped.errors) == 1
    assert mapped.errors[0].index == 1
    return mapped.errors[0].field, mapped.errors[0].message


def test_a_token_usage_histogram_keeps_its_genai_dimensions_as_columns() -> None:
    p = _one(
        metric(
            "gen_ai.client.token.usage",
            "histogram",
            histogram_point(
                (0, 3, 1), (100.0, 1000.0), TOKEN_ATTRS, total=900.0, low=120, high=500
            ),
            unit="{token}",
            aggregation_temporality=CUMULATIVE,
        )
    )
    assert (p.tenant_id, p.metric_name, p.unit, p.kind) == (
        TENANT,
        "gen_ai.client.token.usage",
        "{token}",
        "histogram",
    )
    assert (p.temporality, p.monotonic) == ("cumulative", True)
    assert (p.time_us, p.start_us) == ((NOW_NS - 60 * 10**9) // US, START // US)
    assert (p.provider, p.request_model, p.response_model, p.operation, p.token_type) == (
        "openai",  # lower-cased, as model-call spans have it
        "gpt-4o",
        "gpt-4o-2024-08-06",
        "chat",
        "input",
    )
    assert (p.asset_id, p.service_name, p.error_type) == ("checkout", "checkout", None)
    assert json.loads(p.attributes) == {"server.address": "api.openai.com"}
    assert (p.count, p.sum, p.min, p.max) == (4, 900.0, 120.0, 500.0)
    assert (p.bounds, p.bucket_counts) == ((100.0, 1000.0), (0, 3, 1))
    assert p.value is None


def test_the_deprecated_gen_ai_system_names_the_provider() -> None:
    attrs = {"gen_ai.system": "Anthropic", "error.type": "timeout"}
    p = _one(
        metric(
            "gen_ai.client.operation.duration",
            "histogram",
            histogram_point((1,), (), attrs),
            unit="s",
            aggregation_temporality=DELTA,
        )
    )
    assert (p.provider, p.error_type, p.temporality) == ("anthropic", "timeout", "delta")
    current = {"gen_ai.provider.name": "aws.bedrock", "gen_ai.system": "old"}
    q = _one(
        metric(
            "gen_ai.server.request.duration",
            "histogram",
            histogram_point((1,), (), current),
            aggregation_temporality=DELTA,
        )
    )
    assert q.provider == "aws.bedrock"  # the current name wins


@pytest.mark.parametrize(
    ("kind", "point", "options", "expected"),
    [
        (
            "sum",
            number(12),
            {"aggregation_temporality": CUMULATIVE, "is_monotonic": True},
            ("cumulative", True, 12.0),
        ),
        (
            "sum",
            number(-2.5),
            {"aggregation_temporality": DELTA, "is_monotonic": False},
            ("delta", False, -2.5),
        ),
        ("gauge", number(0.75), {}, (None, False, 0.75)),
    ],
    ids=["cumulative-counter", "delta-updown", "gauge"],
)
def test_sums_and_gauges_carry_their_value(
    kind: str, point: Any, options: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    p = _one(metric("gen_ai.server.requests", kind, point, **options))
    assert (p.temporality, p.monotonic, p.value) == expected
    assert (p.kind, p.count, p.bounds) == (kind, None, ())


def test_an_exponential_histogram_is_stored_with_its_bounds_written_out() -> None:
    point = exponential_point(
        scale=0, positive=(0, (2, 1)), negative=(1, (3,)), zero_count=4, total=1.0
    )
    p = _one(
        metric(
            "gen_ai.server.time_to_first_token",
            "exponential_histogram",
            point,
            aggregation_temporality=DELTA,
        )
    )
    # negative bucket 1: [-4, -2); zero bucket; positive 0: (1, 2], 1: (2, 4]
    assert p.kind == "exponential_histogram"
    assert p.bounds == (-4.0, -2.0, 0.0, 1.0, 2.0, 4.0)
    assert p.bucket_counts == (0, 3, 4, 0, 2, 1, 0)
    assert p.count == 10
    finer = _one(
        metric(
            "gen_ai.server.time_per_output_token",
            "exponential_histogram",
            exponential_point(scale=1, positive=(-2, (1, 1))),
            aggregation_temporality=CUMULATIVE,
        )
    )
    assert finer.bounds == pytest.approx((0.0, 0.5, 2**-0.5, 1.0))
    assert finer.bucket_counts == (0, 0, 1, 1, 0)


def test_one_series_hashes_alike_and_anything_that_tells_series_apart_changes_it() -> None:
    def series(attrs: dict[str, Any], **kwargs: Any) -> int:
        point = histogram_point((1,), (), attrs)
        m = metric("gen_ai.client.token.usage", "histogram", point, aggregation_temporality=DELTA)
        return int(_one(m, **kwargs).series_id)

    base = series(TOKEN_ATTRS)
    assert series(dict(reversed(list(TOKEN_ATTRS.items())))) == base  # order does not matter
    assert series({**TOKEN_ATTRS, "gen_ai.token.type": "output"}) != base
    other_process = {"service.name": "checkout", "service.instance.id": "b"}
    assert series(TOKEN_ATTRS, resource=other_process) != series(
        TOKEN_ATTRS, resource={"service.name": "checkout", "service.instance.id": "a"}
    )
    assert series(TOKEN_ATTRS, scope="another.library") != base


def test_the_asset_comes_from_the_configured_attribute() -> None:
    m = metric("gen_ai.server.queue", "gauge", number(1, {"team": "point-level"}))
    p = _one(m, options=OtlpOptions(asset_attribute="team"), resource={"service.name": "svc"})
    assert (p.asset_id, p.service_name) == ("point-level", "svc")
    q = _one(m, options=OtlpOptions(asset_attribute="team"), resource={"team": "search"})
    assert q.asset_id == "search"  # the resource's first


def test_metrics_outside_genai_are_dropped_unless_every_metric_is_kept() -> None:
    http = metric("http.server.request.duration", "histogram", histogram_point((1,), ()))
    http.histogram.aggregation_temporality = DELTA
    chat = metric("gen_ai.server.queue", "gauge", number(1))
    mapped = _map(http, chat)
    assert ([p.metric_name for p in mapped.points], mapped.dropped, mapped.items) == (
        ["gen_ai.server.queue"],
        1,
        2,
    )
    kept = _map(http, chat, options=OtlpOptions(keep_all_metrics=True))
    assert len(kept.points) == 2


def test_a_point_flagged_as_without_value_is_dropped() -> None:
    stale = number(1)
    stale.flags = 1
    mapped = _map(metric("gen_ai.server.queue", "gauge", stale, number(2)))
    assert ([p.value for p in mapped.points], mapped.dropped) == ([2.0], 1)


def _histogram(point: Any, **options: Any) -> Any:
    options.setdefault("aggregation_temporality", DELTA)
    return metric("gen_ai.client.token.usage", "histogram", point, **options)


def _exponential(**kwargs: Any) -> Any:
    point = exponential_point(**kwargs)
    return metric(
        "gen_ai.server.time_to_first_token", "exponential_histogram", point,
        aggregation_temporality=DELTA,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "field", "words"),
    [
        (metric("gen_ai.x", "gauge", number(math.nan)), "as_double", "finite"),
        (metric("gen_ai.x", "gauge", number(math.inf)), "as_double", "finite"),
        (_histogram(histogram_point((1,), (), total=math.nan)), "sum", "finite"),
        (_histogram(histogram_point((1, 1), (math.inf,))), "explicit_bounds", "finite"),
        (_histogram(histogram_point((1, 1, 1), (2.0, 1.0))), "explicit_bounds", "increasing"),
        (_histogram(histogram_point((1, 2), (1.0, 2.0))), "bucket_counts", "one more count"),
        (
            _histogram(histogram_point((1,) * 5001, [float(i) for i in range(5000)])),
            "explicit_bounds",
            "at most",
        ),
        (_histogram(histogram_point((1, 1), (5.0,), count=3)), "count", "must agree"),
        (_histogram(histogram_point((2**63,), ())), "count", "2**63"),
        (
            _histogram(histogram_point((1,), ()), aggregation_temporality=0),
            "aggregation_temporality",
            "unspecified",
        ),
        (_exponential(scale=21, positive=(0, (1,))), "scale", "outside"),
        (_exponential(scale=0, positive=(5000, (1,))), "offset", "range of a double"),
        (_exponential(scale=0, positive=(0, (1,) * 5000)), "positive.bucket_counts", "at most"),
        (_exponential(scale=0, zero_threshold=math.nan), "zero_threshold", "finite"),
        (
            metric("gen_ai.x", "gauge", number(1, {"gen_ai.request.model": "m" * 300})),
            "attributes.request_model",
            "at most",
        ),
        (metric("gen_ai.x", "gauge", number(1, {"big": "x" * 70_000})), "attributes", "65536"),
        (metric("gen_ai.x", "gauge", number(1, time=0)), "time_unix_nano", "unset"),
        (metric("gen_ai.x", "gauge", number(1, time=NOW_NS + 10**12)), "time_unix_nano", "future"),
        (
            metric("gen_ai.x", "gauge", number(1, time=NOW_NS - 10**15)),
            "time_unix_nano",
            "retention",
        ),
        (metric("gen_ai.x", "gauge", number(1, start=NOW_NS)), "start_time_unix_nano", "after"),
        (metric("gen_ai.x", "gauge", number(1), unit="u" * 64), "unit", "at most"),
        (metric("gen_ai." + "x" * 300, "gauge", number(1)), "name", "characters"),
        (
            metric("gen_ai.x", "summary", SummaryDataPoint(time_unix_nano=NOW_NS)),
            "summary",
            "Histogram",
        ),
    ],
    ids=[
        "nan-value",
        "inf-value",
        "nan-sum",
        "inf-bound",
        "unordered-bounds",
        "mismatched-lengths",
        "huge-bucket-array",
        "count-disagrees",
        "count-overflow",
        "unspecified-temporality",
        "scale-out-of-range",
        "offset-overflow",
        "huge-exponential",
        "nan-zero-threshold",
        "long-model",
        "huge-attributes",
        "unset-time",
        "future",
        "too-old",
        "start-after-time",
        "long-unit",
        "long-name",
        "summary",
    ],
)
def test_hostile_points_are_rejected_one_by_one(bad: Any, field: str, words: str) -> None:
    found_field, message = _rejected(bad)
    assert found_field == field
    assert words in message


def test_a_million_attributes_reject_that_point_only() -> None:
    crowded = number(1)
    crowded.attributes.extend(KeyValue(key=f"k{i}", value=value(i)) for i in range(1_000_000))
    field, message = _rejected(metric("gen_ai.x", "gauge", crowded))
    assert field == "attributes"
    assert "1000000 attributes" in message


def test_a_resource_with_too_many_attributes_rejects_its_points() -> None:
    resource = {f"k{i}": i for i in range(5)}
    mapped = _map(
        metric("gen_ai.x", "gauge", number(1), number(2)),
        resource=resource,
        options=OtlpOptions(max_attributes=4),
    )
    assert mapped.points == []
    assert [(e.index, e.field) for e in mapped.errors] == [
        (0, "resource.attributes"),
        (1, "resource.attributes"),
    ]


def test_points_are_numbered_across_metrics_in_request_order() -> None:
    mapped = _map(
        metric("gen_ai.a", "gauge", number(1), number(math.nan)),
        metric("http.dropped", "gauge", number(1)),
        metric("gen_ai.b", "gauge", number(1), number(1, time=0)),
    )
    assert [e.index for e in mapped.errors] == [1, 4]
    assert (len(mapped.points), mapped.dropped, mapped.items) == (2, 1, 5)
