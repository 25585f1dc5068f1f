"""The OTLP preparing processes are exported at ``/metrics``."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from analytics_hub.api.metrics import HubMetrics


def _samples(metrics: HubMetrics) -> dict[str, float]:
    text = metrics.render().decode()
    return {
        s.name + (f"{{le={s.labels['le']}}}" if "le" in s.labels else ""): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("hub_otlp_prepare")
    }


def test_without_preparing_processes_every_figure_is_zero() -> None:
    samples = _samples(HubMetrics())
    assert samples["hub_otlp_prepare_processes"] == 0
    assert samples["hub_otlp_prepare_in_flight"] == 0
    assert samples["hub_otlp_prepare_seconds_count"] == 0
    assert samples["hub_otlp_prepare_pools_replaced_total"] == 0


def test_requests_held_are_read_at_each_scrape_and_times_observed() -> None:
    metrics = HubMetrics()
    held = [3]
    metrics.bind_preparing(lambda: held[0], 2)
    metrics.otlp_prepared(0.004)
    metrics.otlp_prepared(0.3)
    metrics.otlp_pool_replaced()
    samples = _samples(metrics)
    assert samples["hub_otlp_prepare_processes"] == 2
    assert samples["hub_otlp_prepare_in_flight"] == 3
    assert samples["hub_otlp_prepare_seconds_count"] == 2
    assert samples["hub_otlp_prepare_seconds_sum"] == 0.304
    assert samples["hub_otlp_prepare_seconds_bucket{le=0.005}"] == 1
    assert samples["hub_otlp_prepare_seconds_bucket{le=0.5}"] == 2
    assert samples["hub_otlp_prepare_pools_replaced_total"] == 1
    held[0] = 0
    assert _samples(metrics)["hub_otlp_prepare_in_flight"] == 0
