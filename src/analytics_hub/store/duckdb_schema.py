"""Numbered schema migrations of the DuckDB event store.

A migration is frozen once released: later changes are new, higher-numbered
migrations, never edits of an old one (a database that already applied version 1 will
never run it again). That is why the DDL below is written out rather than generated from
``EVENT_COLUMNS``; a test compares the resulting tables with the event model so that the
two cannot drift apart unnoticed.

Why ``events`` has no primary key: see ``docs/decisions/0001-dedupe-by-anti-join.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics_hub.store.duckdb_rollups import fine_from_rollup_sql, merge_sql
from analytics_hub.store.rollup_tables import tenant_rollups_migration


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change: applied once, in order, in its own transaction."""

    version: int
    name: str
    sql: str


# The ledger itself is created outside the numbered migrations: it must exist before
# the first one can be recorded.
LEDGER_SQL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
)
"""

_EVENTS = """
CREATE TABLE events (
    tenant_id VARCHAR NOT NULL,
    event_id UUID NOT NULL,
    ts TIMESTAMP NOT NULL,
    claimed_ts TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    skew_ms DOUBLE,
    source_module VARCHAR NOT NULL,
    event_type VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    severity_level SMALLINT NOT NULL,
    environment VARCHAR NOT NULL,
    asset_id VARCHAR,
    correlation_id VARCHAR,
    parent_event_id UUID,
    trace_id VARCHAR,
    span_id VARCHAR,
    schema_version VARCHAR NOT NULL,
    payload_type VARCHAR NOT NULL,
    payload_subtype VARCHAR NOT NULL,
    -- JSON text kept as VARCHAR: the JSON type re-validates every value on insert
    -- (about 10 % slower appends in one measurement), normalisation already produced
    -- valid JSON, and DuckDB's json functions read VARCHAR all the same.
    tags VARCHAR NOT NULL,
    model_id VARCHAR,
    provider VARCHAR,
    operation VARCHAR,
    input_tokens BIGINT,
    output_tokens BIGINT,
    cached_input_tokens BIGINT,
    reasoning_tokens BIGINT,
    total_tokens BIGINT,
    latency_ms DOUBLE,
    ttft_ms DOUBLE,
    cost_usd DOUBLE,
    cost_source VARCHAR,
    status VARCHAR,
    error_type VARCHAR,
    user_id VARCHAR,
    session_id VARCHAR,
    request_id VARCHAR,
    payload VARCHAR NOT NULL
);
"""

_ROLLUP = """
CREATE TABLE {name} (
    bucket TIMESTAMP NOT NULL,
    tenant_id VARCHAR NOT NULL,
    source_module VARCHAR NOT NULL,
    event_type VARCHAR NOT NULL,
    payload_subtype VARCHAR NOT NULL,
    asset_id VARCHAR,
    model_id VARCHAR,
    provider VARCHAR,
    status VARCHAR,
    events BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    unpriced BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cost_usd DOUBLE NOT NULL,
    latency_count BIGINT NOT NULL,
    latency_sum DOUBLE NOT NULL,
    latency_min DOUBLE,
    latency_max DOUBLE,
    ttft_count BIGINT NOT NULL,
    ttft_sum DOUBLE NOT NULL,
    lat_bins INTEGER[] NOT NULL,
    lat_counts BIGINT[] NOT NULL
);
"""

_DEAD_LETTERS = """
CREATE TABLE dead_letters (
    tenant_id VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    received_at TIMESTAMP NOT NULL,
    event_index INTEGER NOT NULL,
    errors VARCHAR NOT NULL,           -- JSON list of {field, message, ...}
    raw VARCHAR NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'pending',
    replayed_at TIMESTAMP,
    -- Dead letters are few and written rarely, so a key costs nothing that matters and
    -- makes a re-sent dead letter a no-op.
    PRIMARY KEY (tenant_id, id)
);
"""

_HEALTH = """
CREATE TABLE _health (
    id INTEGER PRIMARY KEY,
    checked_at TIMESTAMP NOT NULL
);
"""

# Anomaly detection (analytics_hub.store.anomalies). Few rows, written and read by key:
# primary keys cost nothing that matters and make a re-scored minute a no-op. A missing
# asset or model is stored as '' so that it can be part of a key.
_ANOMALIES = """
CREATE TABLE anomalies (
    id VARCHAR NOT NULL,
    tenant_id VARCHAR NOT NULL,
    asset_id VARCHAR NOT NULL,
    model_id VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    minute TIMESTAMP NOT NULL,
    score DOUBLE NOT NULL,
    threshold DOUBLE NOT NULL,
    threshold_offset DOUBLE NOT NULL,
    observed DOUBLE NOT NULL,
    expected_low DOUBLE,
    expected_high DOUBLE,
    contributing VARCHAR NOT NULL,     -- JSON list of {metric, score, observed}
    votes VARCHAR NOT NULL,            -- JSON object: member -> probability
    detector VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    latency_ms DOUBLE,
    label VARCHAR,
    labelled_at TIMESTAMP,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE anomaly_feedback (
    tenant_id VARCHAR NOT NULL,
    asset_id VARCHAR NOT NULL,
    model_id VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    false_positives BIGINT NOT NULL,
    true_positives BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, asset_id, model_id, metric)
);
CREATE TABLE anomaly_versions (
    id VARCHAR NOT NULL,
    tenant_id VARCHAR NOT NULL,
    asset_id VARCHAR NOT NULL,
    model_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    reason VARCHAR NOT NULL,
    parameters VARCHAR NOT NULL,       -- JSON
    window_start TIMESTAMP,
    window_end TIMESTAMP,
    minutes BIGINT NOT NULL,
    metrics VARCHAR NOT NULL,          -- JSON
    PRIMARY KEY (tenant_id, id)
);
"""

# OTLP metric points (analytics_hub.store.metric_points). The key makes an exporter's
# retry a no-op: metric points arrive by the hundred, not the hundred thousand, so the
# key's upkeep costs little (events dedupe by anti-join instead, decision 0001).
_METRIC_POINTS = """
CREATE TABLE metric_points (
    tenant_id VARCHAR NOT NULL,
    series_id BIGINT NOT NULL,         -- hash of the series identity
    start_ts TIMESTAMP NOT NULL,       -- 1970-01-01: the exporter sent no start time
    ts TIMESTAMP NOT NULL,
    metric_name VARCHAR NOT NULL,
    unit VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,             -- sum | gauge | histogram | exponential_histogram
    temporality VARCHAR,               -- delta | cumulative; NULL for gauges
    monotonic BOOLEAN NOT NULL,
    asset_id VARCHAR,
    service_name VARCHAR,
    provider VARCHAR,
    request_model VARCHAR,
    response_model VARCHAR,
    operation VARCHAR,
    token_type VARCHAR,
    error_type VARCHAR,
    attributes VARCHAR NOT NULL,       -- JSON object: the attributes that are not columns
    value DOUBLE,
    count BIGINT,
    sum DOUBLE,
    min DOUBLE,
    max DOUBLE,
    bounds DOUBLE[],
    bucket_counts BIGINT[],
    PRIMARY KEY (tenant_id, series_id, start_ts, ts)
);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "events", _EVENTS),
    Migration(
        2,
        "rollups",
        _ROLLUP.format(name="rollup_1m") + _ROLLUP.format(name="rollup_1h"),
    ),
    Migration(3, "dead_letters", _DEAD_LETTERS),
    Migration(4, "health", _HEALTH),
    Migration(5, "anomalies", _ANOMALIES),
    Migration(6, "metric_points", _METRIC_POINTS),
    Migration(
        7, "tenant_rollups", tenant_rollups_migration(_ROLLUP, merge_sql, fine_from_rollup_sql)
    ),
)

__all__ = ["LEDGER_SQL", "MIGRATIONS", "Migration"]
