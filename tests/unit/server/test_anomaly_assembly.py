"""The assembly builds anomaly detection from the settings (nothing is scored here)."""

from __future__ import annotations

from pathlib import Path

from analytics_hub.server.anomalies import anomaly_features, stream_config
from analytics_hub.server.tasks import MinuteTask, PeriodicTask
from analytics_hub.settings import Settings
from analytics_hub.store.duckdb import DuckDBStore


def test_settings_reach_the_scorer_and_its_tasks(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        anomaly_grace_seconds=3.5,
        anomaly_min_baseline_minutes=60,
        anomaly_warm_start_hours=12,
        anomaly_max_series=7,
        anomaly_feedback_step=1.0,
        anomaly_max_offset=2.0,
        anomaly_retrain_days=1,
        anomaly_detect_max_days=2,
        anomaly_detect_max_series=3,
    )
    config = stream_config(settings)
    assert (config.grace_s, config.warm_start_hours, config.max_series) == (3.5, 12, 7)
    assert config.series.min_baseline_minutes == 60
    assert config.feedback.offset(5, 0) == 2.0
    store = DuckDBStore(tmp_path / "e.duckdb")
    try:
        service, tasks = anomaly_features(settings, store, lambda records: None)
        assert service.stream is not None
        assert (service.max_detect_days, service.max_detect_series) == (2, 3)
        scorer, retrain = tasks
        assert isinstance(scorer, MinuteTask)
        assert scorer.delay(120.0) == 3.5  # 3.5 s after each minute
        assert isinstance(retrain, PeriodicTask)

        off = settings.model_copy(update={"anomaly_enabled": False})
        service, tasks = anomaly_features(off, store, lambda records: None)
        assert service.stream is None
        assert tasks == []
        never = settings.model_copy(update={"anomaly_retrain_days": 0})
        assert len(anomaly_features(never, store, lambda records: None)[1]) == 1
    finally:
        store.close()


def test_the_default_grace_is_short_where_the_scorer_has_a_barrier(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    # A barrier (this process commits its own ingest): only requests in flight need time.
    assert stream_config(settings, barrier=True).grace_s == 0.5
    # Writers elsewhere: the grace also covers their delay in making events visible.
    assert stream_config(settings, barrier=False).grace_s == 2.0
    chosen = Settings(data_dir=tmp_path, anomaly_grace_seconds=0)
    assert stream_config(chosen, barrier=False).grace_s == 0.0

    store = DuckDBStore(tmp_path / "e.duckdb")
    store.migrate()
    try:
        settled: list[float] = []

        def settle(timeout: float) -> bool:
            settled.append(timeout)
            return True

        service, tasks = anomaly_features(settings, store, lambda records: None, settle=settle)
        assert service.stream is not None
        assert isinstance(tasks[0], MinuteTask)
        assert tasks[0].delay(120.0) == 0.5
        service.stream.tick()  # an empty store: nothing to score, but the barrier came first
        assert settled == [service.stream.config.settle_timeout_s]
    finally:
        store.close()
