"""Numbered schema migrations of the PostgreSQL event store.

As for DuckDB (:mod:`analytics_hub.store.duckdb_schema`), a released migration is frozen:
changes are new, higher-numbered migrations. The DDL is written out rather than
generated from ``EVENT_COLUMNS``; a test compares the tables with the event model.

Choices that differ from DuckDB, and why:

- ``events`` is partitioned by day on ``claimed_ts`` (the event time as sent), with a
  unique index on ``(tenant_id, event_id, claimed_ts)``: the idempotency key of the port
  includes the partition key, so every partition enforces it on its own and concurrent
  writers need no lock (``docs/decisions/0013-postgres-writes.md``). ``ts`` is never
  later than ``claimed_ts`` (a clamped event gets the earlier receipt time), which the
  CHECK constraint enforces so that a query on ``ts >= x`` may add ``claimed_ts >= x``
  and skip older partitions.
- Day partitions are created by :mod:`analytics_hub.store.postgres_partitions`; rows
  whose day has no partition (claimed far in the future) land in ``events_default``.
- Text columns use the "C" collation: byte order, as DuckDB sorts, whatever the
  database's locale, and cheaper comparisons.
- JSON stays text, as in DuckDB: ``jsonb`` would rewrite what was sent (key order,
  spacing) and cost a parse per row on insert.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics_hub.store.postgres_rollups import fine_from_rollup_sql, merge_sql
from analytics_hub.store.rollup_tables import ROLLUPS, tenant_rollups_migration


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change: applied once, in order, in its own transaction."""

    version: int
    name: str
    sql: str


# Created outside the numbered migrations: it must exist before the first is recorded.
LEDGER_SQL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamp NOT NULL
)
"""

#: the advisory lock key that serialises migrations of concurrently starting processes
MIGRATION_LOCK = 0x6875_6201  # "hub" 1

_EVENTS = """
CREATE TABLE events (
    tenant_id text COLLATE "C" NOT NULL,
    event_id uuid NOT NULL,
    ts timestamp NOT NULL,
    claimed_ts timestamp NOT NULL,
    received_at timestamp NOT NULL,
    skew_ms double precision,
    source_module text COLLATE "C" NOT NULL,
    event_type text COLLATE "C" NOT NULL,
    severity text COLLATE "C" NOT NULL,
    severity_level smallint NOT NULL,
    environment text COLLATE "C" NOT NULL,
    asset_id text COLLATE "C",
    correlation_id text COLLATE "C",
    parent_event_id uuid,
    trace_id text COLLATE "C",
    span_id text COLLATE "C",
    schema_version text COLLATE "C" NOT NULL,
    payload_type text COLLATE "C" NOT NULL,
    payload_subtype text COLLATE "C" NOT NULL,
    tags text COLLATE "C" NOT NULL,
    model_id text COLLATE "C",
    provider text COLLATE "C",
    operation text COLLATE "C",
    input_tokens bigint,
    output_tokens bigint,
    cached_input_tokens bigint,
    reasoning_tokens bigint,
    total_tokens bigint,
    latency_ms double precision,
    ttft_ms double precision,
    cost_usd double precision,
    cost_source text COLLATE "C",
    status text COLLATE "C",
    error_type text COLLATE "C",
    user_id text COLLATE "C",
    session_id text COLLATE "C",
    request_id text COLLATE "C",
    payload text COLLATE "C" NOT NULL,
    CONSTRAINT events_ts_not_after_claimed CHECK (ts <= claimed_ts)
) PARTITION BY RANGE (claimed_ts);

CREATE TABLE events_default PARTITION OF events DEFAULT;
-- Only the default partition: creating a day partition looks here for rows to move.
CREATE INDEX events_default_claimed_ts ON events_default (claimed_ts);

-- The idempotency key (it must include the partition key to be unique).
CREATE UNIQUE INDEX events_key ON events (tenant_id, event_id, claimed_ts);
-- The common questions: a tenant's events in a range, or one asset's.
CREATE INDEX events_tenant_ts ON events (tenant_id, ts);
CREATE INDEX events_tenant_asset_ts ON events (tenant_id, asset_id, ts);
-- Tiny, and enough for scans by time over all tenants (retention, exports).
CREATE INDEX events_ts_brin ON events USING brin (ts);
"""

_ROLLUP = """
CREATE TABLE {name} (
    bucket timestamp NOT NULL,
    tenant_id text COLLATE "C" NOT NULL,
    source_module text COLLATE "C" NOT NULL,
    event_type text COLLATE "C" NOT NULL,
    payload_subtype text COLLATE "C" NOT NULL,
    asset_id text COLLATE "C",
    model_id text COLLATE "C",
    provider text COLLATE "C",
    status text COLLATE "C",
    events bigint NOT NULL,
    errors bigint NOT NULL,
    unpriced bigint NOT NULL,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    cost_usd double precision NOT NULL,
    latency_count bigint NOT NULL,
    latency_sum double precision NOT NULL,
    latency_min double precision,
    latency_max double precision,
    ttft_count bigint NOT NULL,
    ttft_sum double precision NOT NULL,
    lat_bins integer[] NOT NULL,
    lat_counts bigint[] NOT NULL
);
CREATE INDEX {name}_tenant_bucket ON {name} (tenant_id, bucket);
-- Retention and compaction select by bucket alone; rows arrive roughly in bucket order.
CREATE INDEX {name}_bucket_brin ON {name} USING brin (bucket);
"""

# Buckets that received rollup deltas, so that compaction looks at those instead of
# scanning whole rollup tables every minute. Append-only (no key): writers of the same
# minute never wait for each other here; compaction deletes what it has merged.
_ROLLUP_DIRTY = """
CREATE TABLE rollup_dirty (
    rollup text NOT NULL,
    bucket timestamp NOT NULL
);
CREATE INDEX rollup_dirty_bucket ON rollup_dirty (rollup, bucket);
"""

_DEAD_LETTERS = """
CREATE TABLE dead_letters (
    tenant_id text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    received_at timestamp NOT NULL,
    event_index integer NOT NULL,
    errors text NOT NULL,           -- JSON list of {field, message, ...}
    raw text NOT NULL,
    status text COLLATE "C" NOT NULL DEFAULT 'pending',
    replayed_at timestamp,
    PRIMARY KEY (tenant_id, id)
);
-- Listing pages newest first within a tenant.
CREATE INDEX dead_letters_page ON dead_letters (tenant_id, received_at DESC, id DESC);
"""

_HEALTH = """
CREATE TABLE _health (
    id integer PRIMARY KEY,
    checked_at timestamp NOT NULL
);
"""

# A JSON value read as a number the way DuckDB's TRY_CAST(... AS DOUBLE) does: NULL
# instead of an error for text that is not a number (or out of range).
_TRY_FLOAT8 = """
CREATE FUNCTION hub_try_float8(value text) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN value::double precision;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;
"""

# Anomaly detection (analytics_hub.store.anomalies); a missing asset or model is ''.
_ANOMALIES = """
CREATE TABLE anomalies (
    id text COLLATE "C" NOT NULL,
    tenant_id text COLLATE "C" NOT NULL,
    asset_id text COLLATE "C" NOT NULL,
    model_id text COLLATE "C" NOT NULL,
    metric text COLLATE "C" NOT NULL,
    minute timestamp NOT NULL,
    score double precision NOT NULL,
    threshold double precision NOT NULL,
    threshold_offset double precision NOT NULL,
    observed double precision NOT NULL,
    expected_low double precision,
    expected_high double precision,
    contributing text NOT NULL,        -- JSON list of {metric, score, observed}
    votes text NOT NULL,               -- JSON object: member -> probability
    detector text NOT NULL,
    version text COLLATE "C" NOT NULL,
    source text COLLATE "C" NOT NULL,
    created_at timestamp NOT NULL,
    latency_ms double precision,
    label text COLLATE "C",
    labelled_at timestamp,
    PRIMARY KEY (tenant_id, id)
);
-- Listing pages newest first within a tenant; retention selects by minute.
CREATE INDEX anomalies_page ON anomalies (tenant_id, minute DESC, id DESC);
CREATE TABLE anomaly_feedback (
    tenant_id text COLLATE "C" NOT NULL,
    asset_id text COLLATE "C" NOT NULL,
    model_id text COLLATE "C" NOT NULL,
    metric text COLLATE "C" NOT NULL,
    false_positives bigint NOT NULL,
    true_positives bigint NOT NULL,
    updated_at timestamp NOT NULL,
    PRIMARY KEY (tenant_id, asset_id, model_id, metric)
);
CREATE TABLE anomaly_versions (
    id text COLLATE "C" NOT NULL,
    tenant_id text COLLATE "C" NOT NULL,
    asset_id text COLLATE "C" NOT NULL,
    model_id text COLLATE "C" NOT NULL,
    created_at timestamp NOT NULL,
    reason text COLLATE "C" NOT NULL,
    parameters text NOT NULL,          -- JSON
    window_start timestamp,
    window_end timestamp,
    minutes bigint NOT NULL,
    metrics text NOT NULL,             -- JSON
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX anomaly_versions_page ON anomaly_versions (tenant_id, created_at DESC, id DESC);
"""

# OTLP metric points (analytics_hub.store.metric_points). Not partitioned: a few rows
# per series and export interval. The key makes an exporter's retry a no-op and serves
# the query's look-up of a cumulative run's latest point before a range.
_METRIC_POINTS = """
CREATE TABLE metric_points (
    tenant_id text COLLATE "C" NOT NULL,
    series_id bigint NOT NULL,         -- hash of the series identity
    start_ts timestamp NOT NULL,       -- 1970-01-01: the exporter sent no start time
    ts timestamp NOT NULL,
    metric_name text COLLATE "C" NOT NULL,
    unit text COLLATE "C" NOT NULL,
    kind text COLLATE "C" NOT NULL,    -- sum | gauge | histogram | exponential_histogram
    temporality text COLLATE "C",      -- delta | cumulative; NULL for gauges
    monotonic boolean NOT NULL,
    asset_id text COLLATE "C",
    service_name text COLLATE "C",
    provider text COLLATE "C",
    request_model text COLLATE "C",
    response_model text COLLATE "C",
    operation text COLLATE "C",
    token_type text COLLATE "C",
    error_type text COLLATE "C",
    attributes text NOT NULL,          -- JSON object: the attributes that are not columns
    value double precision,
    count bigint,
    sum double precision,
    min double precision,
    max double precision,
    bounds double precision[],
    bucket_counts bigint[],
    PRIMARY KEY (tenant_id, series_id, start_ts, ts)
);
-- The query: one metric of a tenant in a time range.
CREATE INDEX metric_points_name_ts ON metric_points (tenant_id, metric_name, ts);
-- Retention selects by time alone; rows arrive roughly in time order.
CREATE INDEX metric_points_ts_brin ON metric_points USING brin (ts);
"""

# The block-range (BRIN) indexes on the rollups' bucket misled the planner: compaction
# rewrites old buckets at the end of the heap, so each block range spans most of the
# time axis, yet the planner costs a BRIN scan as if the table were in bucket order and
# chose it over the (tenant_id, bucket) index: a tenant's 7-day question read the whole
# hour rollup (135-220 ms instead of 19). A B-tree on bucket serves compaction and
# retention (bucket alone) and is costed from its real correlation.
_ROLLUP_BUCKET_BTREE = "".join(
    f"DROP INDEX IF EXISTS {t.name}_bucket_brin;\n"
    f"CREATE INDEX {t.name}_bucket ON {t.name} (bucket);\n"
    for t in ROLLUPS
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "events", _EVENTS),
    Migration(
        2,
        "rollups",
        _ROLLUP.format(name="rollup_1m") + _ROLLUP.format(name="rollup_1h") + _ROLLUP_DIRTY,
    ),
    Migration(3, "dead_letters", _DEAD_LETTERS),
    Migration(4, "health", _HEALTH),
    Migration(5, "try_float8", _TRY_FLOAT8),
    Migration(6, "anomalies", _ANOMALIES),
    Migration(7, "metric_points", _METRIC_POINTS),
    Migration(
        8, "tenant_rollups", tenant_rollups_migration(_ROLLUP, merge_sql, fine_from_rollup_sql)
    ),
    Migration(9, "rollup_bucket_btree", _ROLLUP_BUCKET_BTREE),
)

__all__ = ["LEDGER_SQL", "MIGRATIONS", "MIGRATION_LOCK", "Migration"]
