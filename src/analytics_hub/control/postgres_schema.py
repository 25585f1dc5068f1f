"""Numbered schema migrations of the PostgreSQL control store.

The tables carry a ``control_`` prefix and live in the same database and schema as the
event store (the first schema of the URL's ``search_path``), so that one
``HUB_STORE`` URL places both and hubs kept apart by ``search_path`` stay apart
(``docs/decisions/0017-control-plane-in-postgresql.md``). The versions match those of
the SQLite control store (1 keys, 2 price overrides, 3 dashboards); a released migration
is frozen, changes are new, higher-numbered ones.

Timestamps are ``timestamptz`` (the records carry zone-aware times), text is in the "C"
collation as in the event store, and a dashboard's document stays text, as sent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change: applied once, in order, in its own transaction."""

    version: int
    name: str
    sql: str


# Created outside the numbered migrations: it must exist before the first is recorded.
LEDGER_SQL = """
CREATE TABLE IF NOT EXISTS control_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL
)
"""

#: the advisory lock key that serialises control migrations of processes starting
#: together (the event store's is 0x6875_6201: either may migrate while the other does)
MIGRATION_LOCK = 0x6875_6202  # "hub" 2

_KEYS = """
CREATE TABLE control_api_keys (
    key_id text COLLATE "C" PRIMARY KEY,
    tenant_id text COLLATE "C" NOT NULL,
    role text COLLATE "C" NOT NULL,
    name text NOT NULL,
    secret_hash text COLLATE "C" NOT NULL,   -- SHA-256 of the whole key, never the key
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX control_api_keys_tenant ON control_api_keys (tenant_id, created_at);
"""

_PRICE_OVERRIDES = """
CREATE TABLE control_price_overrides (
    tenant_id text COLLATE "C" NOT NULL,
    provider text COLLATE "C" NOT NULL,
    model text COLLATE "C" NOT NULL,
    valid_from date NOT NULL,                -- UTC day
    input double precision NOT NULL,         -- USD per million tokens
    output double precision NOT NULL,
    cached_input double precision,           -- NULL: as input
    reasoning double precision,              -- NULL: as output
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, provider, model, valid_from)
);
"""

_DASHBOARDS = """
CREATE TABLE control_dashboards (
    tenant_id text COLLATE "C" NOT NULL,
    dashboard_id text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,          -- also inside document: kept apart for listing
    version integer NOT NULL,                -- optimistic concurrency: +1 on every replace
    document text NOT NULL,                  -- JSON, shaped by the query feature
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, dashboard_id)
);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "api keys", _KEYS),
    Migration(2, "price overrides", _PRICE_OVERRIDES),
    Migration(3, "dashboards", _DASHBOARDS),
)

#: every table of the control plane, for tests and for ``pg_dump -t``
TABLES = ("control_migrations", "control_api_keys", "control_price_overrides", "control_dashboards")

KEY_COLUMNS = "key_id, tenant_id, role, name, secret_hash, created_at, revoked_at"
PRICE_COLUMNS = (
    "tenant_id, provider, model, valid_from, input, output, cached_input, reasoning, updated_at"
)
DASHBOARD_COLUMNS = "tenant_id, dashboard_id, name, version, document, created_at, updated_at"

# The same order as SQLite's ``name COLLATE NOCASE``: lower() under the "C" collation
# folds ASCII letters only, and ties go to the id.
DASHBOARD_ORDER = "lower(name), dashboard_id"

PUT_PRICE = f"""
INSERT INTO control_price_overrides ({PRICE_COLUMNS})
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (tenant_id, provider, model, valid_from) DO UPDATE SET
    input = EXCLUDED.input,
    output = EXCLUDED.output,
    cached_input = EXCLUDED.cached_input,
    reasoning = EXCLUDED.reasoning,
    updated_at = EXCLUDED.updated_at
"""

# One conditional UPDATE: two writers that read the same version cannot both win.
REPLACE_DASHBOARD = """
UPDATE control_dashboards SET name = %s, version = %s, document = %s, updated_at = %s
WHERE tenant_id = %s AND dashboard_id = %s AND version = %s
"""

__all__ = [
    "DASHBOARD_COLUMNS",
    "DASHBOARD_ORDER",
    "KEY_COLUMNS",
    "LEDGER_SQL",
    "MIGRATIONS",
    "MIGRATION_LOCK",
    "PRICE_COLUMNS",
    "PUT_PRICE",
    "REPLACE_DASHBOARD",
    "TABLES",
    "Migration",
]
