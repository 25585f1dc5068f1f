"""One typed, frozen settings object, read once by the assembly (server, cli).

Sources, highest priority first: explicit keyword arguments (command-line flags),
``HUB_*`` environment variables, the TOML file named by ``HUB_CONFIG`` (or passed as
``config_file``), then the defaults below. A setting's environment variable is its name in
upper case with the ``HUB_`` prefix (``data_dir`` -> ``HUB_DATA_DIR``); nested tables such as
per-tenant retention are set in the TOML file or as JSON in the variable.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

# Approximate reference rates to USD. They exist so that a cost sent in another currency is
# never silently treated as dollars; set ``currency_rates`` to your finance team's rates.
DEFAULT_CURRENCY_RATES: dict[str, float] = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "JPY": 0.0067,
    "CAD": 0.73,
    "AUD": 0.66,
    "CHF": 1.13,
    "CNY": 0.14,
    "INR": 0.012,
}


#: What a process can do; ``all`` is every one of them (see docs/operations/scaling.md).
ROLES: tuple[str, ...] = ("ingest", "writer", "api", "analytics")


class TenantRetention(BaseModel):
    """Retention of one tenant, in days; unset fields take the global value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    raw_days: int | None = Field(default=None, ge=1)
    minute_rollup_days: int | None = Field(default=None, ge=1)
    hour_rollup_days: int | None = Field(default=None, ge=1)


class Settings(BaseSettings):
    """Every setting of the hub. See ``docs/operations/configuration.md``."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_", frozen=True, extra="forbid", env_nested_delimiter="__"
    )

    # where and how to run
    data_dir: Path = Field(default=Path("hub-data"), description="Directory of the embedded stores")
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds")
    port: int = Field(default=8080, ge=0, le=65535, description="HTTP port")
    otlp_grpc_port: int = Field(
        default=4317,
        ge=0,
        le=65535,
        description="Port of OTLP/gRPC and the native gRPC ingest service; 0 turns gRPC off",
    )
    otlp_http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Extra port serving OTLP/HTTP alone (conventionally 4318); 0: main port only",
    )
    store: str = Field(
        default="",
        description="Event store URL; empty means duckdb:///<data_dir>/events.duckdb",
    )
    role: str = Field(
        default="all",
        description="What this process does: all, or a comma-separated subset of ingest, "
        "writer, api, analytics",
    )
    log_format: Literal["json", "console"] = Field(default="console", description="Log format")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level"
    )
    gc_gen0_threshold: int = Field(
        default=10_000,
        ge=0,
        description="Allocations between young garbage collections once the server has "
        "started (startup objects are frozen); 0 keeps CPython's collector settings",
    )
    switch_interval_ms: float = Field(
        default=1.0,
        ge=0,
        description="Milliseconds a thread runs Python before another thread waiting for "
        "the interpreter lock takes it, once the server has started; 0 keeps CPython's (5)",
    )
    public_paths: tuple[str, ...] = Field(
        default=("/healthz", "/readyz", "/metrics"),
        description="Paths served without a credential",
    )
    webui_dir: str = Field(
        default="",
        description="Directory of the built web UI (index.html, assets/); empty: the copy "
        "inside the package that `make run` puts there",
    )

    # ingestion limits
    max_batch_events: int = Field(default=10_000, ge=1, description="Events per request")
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Request body size after decompression"
    )
    max_future_skew_seconds: float = Field(
        default=300.0, ge=0, description="Events further in the future are clamped"
    )
    currency_rates: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_CURRENCY_RATES),
        description="Units of USD per unit of each accepted currency",
    )

    # OpenTelemetry (OTLP) ingestion
    otlp_asset_attribute: str = Field(
        default="service.name",
        min_length=1,
        description="Resource (or span) attribute whose value becomes the event's asset_id",
    )
    otlp_keep_context_spans: bool = Field(
        default=True, description="Keep spans that are not model calls as trace context"
    )
    otlp_prepare_processes: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Worker processes that decode, map and normalise OTLP traces and logs "
        "beside the serving process; 0 does it in the serving process's decoding thread",
    )
    otlp_metrics_keep_all: bool = Field(
        default=False, description="Keep every OTLP metric, not only the gen_ai.* ones"
    )

    # the pipeline
    pipeline_capacity_events: int = Field(
        default=200_000,
        ge=1000,
        description="Events acknowledged but not yet in the store before 429",
    )
    commit_max_events: int = Field(
        default=100_000, ge=1, description="Largest store commit, in events"
    )
    commit_min_events: int = Field(
        default=20_000,
        ge=1,
        description="Below this many waiting events the writer lingers for more",
    )
    commit_linger_seconds: float = Field(
        default=0.05, ge=0, le=0.5, description="Longest wait for a larger commit"
    )
    max_store_lag_seconds: float = Field(
        default=0.5,
        gt=0,
        description="Acknowledged events may wait at most this long for the store before 429",
    )
    journal_segment_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024 * 1024, description="Journal segment file size"
    )
    retry_after_seconds: float = Field(default=1.0, gt=0, description="Retry-After on 429")

    # the event bus
    bus: str = Field(
        default="journal",
        description="Event bus: journal (embedded) or nats://host:port[,nats://host:port...]",
    )
    nats_stream_replicas: int = Field(
        default=1, ge=1, le=5, description="Replicas of the JetStream streams"
    )
    nats_partitions: int = Field(
        default=8, ge=1, le=1024, description="Partitions of each module's subjects (by asset_id)"
    )
    nats_retention_days: float = Field(
        default=7.0, gt=0, description="How long JetStream keeps events"
    )
    nats_ack_wait_seconds: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description="A writer that died holds its messages this long before others get them",
    )
    nats_stream: str = Field(
        default="HUB_EVENTS",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="JetStream stream of the events; its dead letters go to <name>_DEAD",
    )
    nats_subject_prefix: str = Field(
        default="events",
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        description="Leading tokens of the event subjects (<prefix>.<module>.<partition>)",
    )

    # the embedded store
    duckdb_memory_limit: str = Field(default="512MB", description="DuckDB memory limit")
    duckdb_threads: int = Field(default=0, ge=0, description="DuckDB threads; 0 = all cores")

    # the PostgreSQL store (store = postgresql://...)
    postgres_read_pool_size: int = Field(
        default=8, ge=1, description="Most PostgreSQL connections serving queries"
    )
    postgres_write_pool_size: int = Field(
        default=4, ge=1, description="Most PostgreSQL connections writing (events, maintenance)"
    )
    postgres_partitions_ahead_days: int = Field(
        default=3, ge=0, le=60, description="Daily event partitions kept ready ahead of today"
    )

    # retention, in days
    retention_raw_days: int = Field(default=30, ge=1, description="Raw events")
    retention_minute_rollup_days: int = Field(default=90, ge=1, description="Minute rollups")
    retention_hour_rollup_days: int = Field(default=365, ge=1, description="Hourly rollups")
    retention_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often the retention task runs"
    )
    tenant_retention: dict[str, TenantRetention] = Field(
        default_factory=dict, description="Per-tenant retention overrides"
    )

    # queries
    query_max_rows: int = Field(default=10_000, ge=1, description="Largest page of query rows")
    query_max_buckets: int = Field(
        default=10_000, ge=1, description="Most time buckets one query may produce"
    )
    query_max_unbucketed_range_days: int = Field(
        default=400, ge=1, description="Longest range an aggregate without a time bucket may span"
    )

    # the cache (docs/operations/cache.md)
    cache: str = Field(
        default="memory",
        description="Cache: memory (in-process), redis://host:6379/0 or "
        "redis+cluster://host:port[,host:port...]",
    )
    cache_ttl_seconds: float = Field(
        default=10.0, ge=0, description="Longest a dashboard query result is cached; 0: never"
    )
    cache_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=0, description="Size bound of the in-process (memory) cache"
    )
    cache_timeout_seconds: float = Field(
        default=0.25, gt=0, le=10, description="Redis connect and reply timeout"
    )
    cache_retry_seconds: float = Field(
        default=5.0, gt=0, description="After a Redis failure, how long before it is tried again"
    )
    rate_limit_per_minute: int = Field(
        default=0, ge=0, description="Requests each API key may send per minute; 0: no limit"
    )

    # the live feed (GET /api/v1/stream)
    stream_queue_events: int = Field(
        default=1000,
        ge=10,
        le=100_000,
        description="Events a live connection may have waiting; more are dropped and counted",
    )
    stream_max_connections: int = Field(
        default=500, ge=1, description="Most live connections open at once"
    )
    stream_metrics_interval_seconds: float = Field(
        default=1.0,
        ge=0.1,
        le=60,
        description="Most often a live connection gets the current minute's metrics",
    )

    # forecasts (POST /api/v1/forecast...)
    forecast_max_concurrent: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Forecasts computed at once (CPU-bound); more wait for their turn",
    )

    # anomaly detection (docs/analytics/anomaly-detection.md)
    anomaly_enabled: bool = Field(
        default=True, description="Score every series as its minute rollup closes"
    )
    anomaly_grace_seconds: float | None = Field(
        default=None,
        ge=0,
        le=30,
        description="A minute counts as closed this long after it ends. Default: 0.5 s in "
        "a process that commits its own ingest (it first waits until everything "
        "acknowledged is stored), 2 s in an analytics process apart from the writers",
    )
    anomaly_min_baseline_minutes: int = Field(
        default=1440, ge=0, description="Minutes of history a series needs before it may alarm"
    )
    anomaly_warm_start_hours: float = Field(
        default=48.0,
        ge=0,
        le=336,
        description="History a new series' detector is primed with (also before a detect range)",
    )
    anomaly_max_series: int = Field(
        default=1000, ge=1, description="Series detectors kept in memory (least recent go first)"
    )
    anomaly_feedback_step: float = Field(
        default=0.5, gt=0, le=3, description="Decades of rarity one net false positive adds"
    )
    anomaly_max_offset: float = Field(
        default=3.0, ge=0, le=10, description="Most decades feedback may raise a threshold by"
    )
    anomaly_retrain_days: float = Field(
        default=7.0, ge=0, description="Rebuild live detectors from history this often; 0: never"
    )
    anomaly_detect_max_days: float = Field(
        default=7.0, gt=0, le=90, description="Longest range one on-demand detection scores"
    )
    anomaly_detect_max_series: int = Field(
        default=20, ge=1, description="Most series one on-demand detection scores"
    )

    config_file: Path | None = Field(default=None, description="TOML file read at start")

    @field_validator("currency_rates")
    @classmethod
    def _rates_positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, r in v.items() if not r > 0]
        if bad:
            raise ValueError(f"currency rates must be positive: {', '.join(bad)}")
        return {k.upper(): r for k, r in v.items()}

    @property
    def bus_url(self) -> str:
        """The event bus: ``journal`` or a comma-separated list of ``nats://`` servers."""
        return self.bus.strip()

    @field_validator("role")
    @classmethod
    def _known_roles(cls, v: str) -> str:
        names = [r.strip().lower() for r in v.split(",") if r.strip()]
        unknown = sorted(set(names) - set(ROLES) - {"all"})
        if not names or unknown:
            raise ValueError(
                f"unknown role {', '.join(unknown) or repr(v)}: use all, or a comma-separated"
                f" subset of {', '.join(ROLES)}"
            )
        return ",".join(names)

    @property
    def roles(self) -> frozenset[str]:
        """The roles this process takes (``all`` expanded)."""
        names = set(self.role.split(","))
        return frozenset(ROLES) if "all" in names else frozenset(names)

    @property
    def store_url(self) -> str:
        """The effective store URL."""
        return self.store or f"duckdb:///{self.data_dir / 'events.duckdb'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls, init_settings))


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by ``config_file`` (argument) or ``HUB_CONFIG``."""

    def __init__(self, settings_cls: type[BaseSettings], init: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self._init = init

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # pragma: no cover - __call__ does the work

    def __call__(self) -> dict[str, Any]:
        path = (
            self._init().get("config_file")
            or os.environ.get("HUB_CONFIG")
            or os.environ.get("HUB_CONFIG_FILE")
        )
        if not path:
            return {}
        with Path(path).open("rb") as fh:
            data = tomllib.load(fh)
        data.pop("config_file", None)
        return data


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment, the TOML file and explicit overrides."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)


__all__ = ["DEFAULT_CURRENCY_RATES", "ROLES", "Settings", "TenantRetention", "load_settings"]
