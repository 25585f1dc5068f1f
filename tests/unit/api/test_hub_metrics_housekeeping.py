"""The store-housekeeping hold is exported at ``/metrics``."""

from __future__ import annotations

from analytics_hub.api.metrics import HubMetrics


def test_each_hold_of_ingest_for_housekeeping_is_counted_with_its_duration() -> None:
    metrics = HubMetrics()
    before = metrics.render().decode()
    assert "hub_store_housekeeping_seconds_count 0.0" in before
    metrics.housekeeping(0.8)
    metrics.housekeeping(1.4)
    text = metrics.render().decode()
    assert "hub_store_housekeeping_seconds_count 2.0" in text
    assert "hub_store_housekeeping_seconds_sum 2.2" in text
    assert 'hub_store_housekeeping_seconds_bucket{le="1.0"} 1.0' in text
