"""Batch normalisation: decoded envelopes -> rows of ``EVENT_SCHEMA`` + per-event errors.

Everything here is batch-shaped: each step runs over a whole column (a comprehension, a
``map`` or an Arrow kernel) and looks at single events only when the batch holds
something unusual (a clamp, a conversion, an invalid value). Per-event Python work is
what would dominate the cost of ingest; bench/events_decode.py measures it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
from msgspec.structs import astuple

from analytics_hub.events.arrays import ColumnBuilder
from analytics_hub.events.columns import COLUMN_NAMES, COLUMNS_BY_NAME, EVENT_SCHEMA
from analytics_hub.events.currency import AMOUNT_FIELDS, Converted, RateTable, to_usd
from analytics_hub.events.custom import CustomData
from analytics_hub.events.envelope import SEVERITY_OF, Envelope
from analytics_hub.events.fields import SEMVER_PATTERN, TAG_KEY_PATTERN
from analytics_hub.events.governance import AuditTrail
from analytics_hub.events.ids import check_hex_ids, uuid7_array
from analytics_hub.events.lifecycle import Asset
from analytics_hub.events.lifting import DATA_COLUMNS, KIND_OF, lift
from analytics_hub.events.limits import Limits, depth_of, tightened_violation
from analytics_hub.events.messages import tags_error
from analytics_hub.events.modules import canonical_modules
from analytics_hub.events.timestamps import iso, to_micros_batch

_SEMVER = re.compile(SEMVER_PATTERN)
_TAG_KEY = re.compile(TAG_KEY_PATTERN)
_SUPPORTED_MAJORS = frozenset({"1"})
_CANONICAL_SEVERITIES = frozenset(name for name, _ in SEVERITY_OF.values())
_LEVEL = dict(SEVERITY_OF.values())
_USD_OR_NONE = frozenset({None, "USD"})
# Variants with free-form JSON, the only fields that can nest past the fixed structure.
_FREE_FORM: dict[type, str] = {CustomData: "data", AuditTrail: "changes", Asset: "attributes"}
_PAYLOAD_DEPTH = 3  # event object -> payload -> data
_DATA = attrgetter("data")
_TYPES = {c: COLUMNS_BY_NAME[c].arrow_type for c in COLUMN_NAMES}
_encode: Callable[[Any], bytes] = msgspec.json.Encoder().encode
CHUNK = 512  # events normalised at once; see normalize_batch

Errors = dict[int, tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Rules:
    """What the normaliser enforces, fixed per :class:`~analytics_hub.events.Normalizer`."""

    rates: RateTable
    max_future_us: int
    max_age_us: int
    limits: Limits
    tightened: bool  # the limits tighten a compiled ceiling: walk every event


def normalize_batch(
    envs: Sequence[Envelope], rules: Rules, *, tenant_id: str, received_us: int
) -> tuple[pa.Table, Errors]:
    """Rows of the acceptable ``envs`` (in order) and ``{position: (field, message)}``.

    A large batch is normalised ``CHUNK`` events at a time: each step makes a pass over
    the events, and passes over a chunk that stays in the CPU caches are much cheaper.
    """
    if len(envs) <= CHUNK:
        return _normalize(envs, rules, tenant_id, received_us)
    tables: list[pa.Table] = []
    errors: Errors = {}
    for start in range(0, len(envs), CHUNK):
        table, chunk_errors = _normalize(envs[start : start + CHUNK], rules, tenant_id, received_us)
        tables.append(table)
        errors.update((start + i, problem) for i, problem in chunk_errors.items())
    return pa.concat_tables(tables), errors


def _normalize(
    envs: Sequence[Envelope], rules: Rules, tenant_id: str, received_us: int
) -> tuple[pa.Table, Errors]:
    n = len(envs)
    errors: Errors = {}
    if n == 0:
        return EVENT_SCHEMA.empty_table(), errors

    def reject(pos: int, field: str, message: str) -> None:
        errors.setdefault(pos, (field, message))  # the first problem found is reported

    if rules.tightened:
        for i, env in enumerate(envs):
            violation = tightened_violation(env, rules.limits)
            if violation:
                reject(i, *violation)

    # One pass over the structs, transposed into columns: touching each struct once
    # instead of once per field matters when a batch no longer fits in the CPU caches.
    env_cols: dict[str, Sequence[Any]] = dict(
        zip(Envelope.__struct_fields__, zip(*map(astuple, envs), strict=True), strict=True)
    )
    rows: dict[str, Sequence[Any]] = {
        name: env_cols[name] for name in ("event_type", "environment", "asset_id", "correlation_id")
    }
    _times(env_cols["timestamp"], rules, received_us, rows, reject)
    _ids(env_cols, rows, reject)
    mods, module_errors = canonical_modules(env_cols["source_module"])
    rows["source_module"] = mods
    for i, message in module_errors.items():
        reject(i, "source_module", message)
    _severities(env_cols["severity"], rows)
    _schema_versions(env_cols["schema_version"], rows, reject)
    _tags(env_cols["tags"], rules.limits, rows, reject)
    _payloads(list(map(_DATA, env_cols["payload"])), rules, rows, reject)

    if errors:
        keep = [i for i in range(n) if i not in errors]
        rows = {
            name: values.take(keep) if isinstance(values, pa.Array) else [values[i] for i in keep]
            for name, values in rows.items()
        }
    return _table(rows, tenant_id, received_us), errors


def _times(
    values: Sequence[Any],
    rules: Rules,
    received_us: int,
    rows: dict[str, Sequence[Any]],
    reject: Callable[[int, str, str], None],
) -> None:
    claimed, bad = to_micros_batch(values)
    for i, message in bad.items():
        reject(i, "timestamp", message)
    oldest = received_us - rules.max_age_us
    latest = received_us + rules.max_future_us
    ts: list[int] = claimed
    skew: list[float | None] | None = None
    if bad or min(claimed) < oldest or max(claimed) > latest:
        ts = list(claimed)
        skew = [None] * len(claimed)
        days = rules.max_age_us / 86_400_000_000
        for i, c in enumerate(claimed):
            if i in bad:
                continue
            if c < oldest:
                reject(
                    i,
                    "timestamp",
                    f"event time {iso(c)} is older than the raw retention ({days:g} days "
                    f"before its receipt at {iso(received_us)}); it would be deleted at once",
                )
            elif c > latest:
                ts[i] = received_us
                skew[i] = (c - received_us) / 1000
    rows["claimed_ts"] = claimed
    rows["ts"] = ts
    if skew is not None and skew.count(None) < len(skew):
        rows["skew_ms"] = skew


_UUID_MESSAGE = "must be a UUID: 8-4-4-4-12 hexadecimal digits"
_HEX_MESSAGES = {
    "trace": "must be an OpenTelemetry trace id: 32 (or 16) hexadecimal digits",
    "span": "must be an OpenTelemetry span id: 16 hexadecimal digits",
}


def _ids(
    env_cols: dict[str, Sequence[Any]],
    rows: dict[str, Sequence[Any]],
    reject: Callable[[int, str, str], None],
) -> None:
    for field, kind in (
        ("event_id", "uuid"),
        ("parent_event_id", "uuid"),
        ("trace_id", "trace"),
        ("span_id", "span"),
    ):
        values, bad = check_hex_ids(env_cols[field], kind)
        for i in bad:
            reject(i, field, _HEX_MESSAGES.get(kind, _UUID_MESSAGE))
        rows[field] = values
    ids = rows["event_id"]
    missing = ids.count(None)
    if missing == len(ids):
        rows["event_id"] = uuid7_array(missing)  # an Arrow array: see _table
    elif missing:
        given = pa.array(ids, pa.string())
        rows["event_id"] = pc.replace_with_mask(given, pc.is_null(given), uuid7_array(missing))


def _severities(names: Sequence[str], rows: dict[str, Sequence[Any]]) -> None:
    if not set(names) <= _CANONICAL_SEVERITIES:
        names = [SEVERITY_OF[s][0] for s in names]
    rows["severity"] = names
    rows["severity_level"] = list(map(_LEVEL.__getitem__, names))


def _schema_versions(
    versions: Sequence[str],
    rows: dict[str, Sequence[Any]],
    reject: Callable[[int, str, str], None],
) -> None:
    rows["schema_version"] = versions
    problems: dict[str, str] = {}
    for v in set(versions) - {"1.0.0"}:
        m = _SEMVER.fullmatch(v)
        if m is None:
            problems[v] = f"schema_version {v!r} is not a semantic version (MAJOR.MINOR.PATCH)"
        elif m[1] not in _SUPPORTED_MAJORS:
            problems[v] = f"schema_version {v!r} is not supported: this hub reads 1.x events"
    if problems:
        for i, v in enumerate(versions):
            if v in problems:
                reject(i, "schema_version", problems[v])


def _tags(
    tags: Sequence[dict[str, str]],
    limits: Limits,
    rows: dict[str, Sequence[Any]],
    reject: Callable[[int, str, str], None],
) -> None:
    keys: set[str] = set().union(*tags)
    if any(not _TAG_KEY.fullmatch(k) for k in keys):
        for i, t in enumerate(tags):
            problem = tags_error(t, limits)
            if problem:
                reject(i, *problem)
    rows["tags"] = [_encode(t) if t else b"{}" for t in tags]


def _payloads(
    datas: list[Any],
    rules: Rules,
    rows: dict[str, Sequence[Any]],
    reject: Callable[[int, str, str], None],
) -> None:
    types = set(map(type, datas))
    originals: dict[int, dict[str, Any]] = {}
    if not types.isdisjoint(AMOUNT_FIELDS):
        if types <= AMOUNT_FIELDS.keys():
            codes = list(map(attrgetter("currency"), datas))
        else:
            codes = [getattr(d, "currency", None) for d in datas]
        if not set(codes) <= _USD_OR_NONE:
            for i, code in enumerate(codes):
                if code in _USD_OR_NONE or type(datas[i]) not in AMOUNT_FIELDS:
                    continue
                result = to_usd(datas[i], rules.rates)
                if isinstance(result, Converted):
                    datas[i] = result.data
                    if result.original:
                        originals[i] = result.original
                elif result is not None:
                    reject(i, f"payload.data.{result[0]}", result[1])
    if not types.isdisjoint(_FREE_FORM):
        max_depth = rules.limits.max_depth
        for i, d in enumerate(datas):
            attr = _FREE_FORM.get(type(d))
            if attr is not None:
                depth = _PAYLOAD_DEPTH + depth_of(getattr(d, attr))
                if depth > max_depth:
                    reject(
                        i,
                        f"payload.data.{attr}",
                        f"nested {depth} levels deep; at most {max_depth} are allowed "
                        "(Limits.max_depth, counting the event object as 1)",
                    )
    parts = list(map(_encode, datas))
    for i, original in originals.items():
        parts[i] = _encode({**msgspec.to_builtins(datas[i]), "original": original})
    limit = rules.limits.max_payload_bytes
    if max(map(len, parts)) > limit:
        for i, p in enumerate(parts):
            if len(p) > limit:
                reject(
                    i,
                    "payload",
                    f"payload data is {len(p)} bytes once normalised; at most {limit} "
                    "are allowed (Limits.max_payload_bytes)",
                )
    rows["data"] = datas
    rows["payload"] = parts


# Envelope columns that usually hold a single value within a batch.
_FEW = frozenset(
    {
        "source_module",
        "event_type",
        "severity",
        "severity_level",
        "environment",
        "asset_id",
        "schema_version",
        "parent_event_id",
        "correlation_id",
    }
)


def _table(rows: dict[str, Sequence[Any]], tenant_id: str, received_us: int) -> pa.Table:
    n = len(rows["ts"])
    if n == 0:
        return EVENT_SCHEMA.empty_table()
    build = ColumnBuilder(n)
    cols: dict[str, pa.Array] = {
        "tenant_id": build.repeat(tenant_id, pa.string()),
        "received_at": build.repeat(received_us, _TYPES["received_at"]),
        "tags": build.json(rows.pop("tags")),
        "payload": build.json(rows.pop("payload")),
    }
    skew = rows.pop("skew_ms", None)  # present only when an event was clamped
    cols["skew_ms"] = build.repeat(None, pa.float64()) if skew is None else pa.array(skew)
    cols.update(_data_columns(rows.pop("data"), build))
    claimed = rows.pop("claimed_ts")
    cols["claimed_ts"] = build.column(claimed, _TYPES["claimed_ts"])
    ts = rows.pop("ts")  # the same list unless an event was clamped
    cols["ts"] = cols["claimed_ts"] if ts is claimed else build.column(ts, _TYPES["ts"])
    for name, values in rows.items():
        cols[name] = build.column(values, _TYPES[name], few=name in _FEW)
    return pa.Table.from_arrays([cols[c] for c in COLUMN_NAMES], schema=EVENT_SCHEMA)


def _data_columns(datas: Sequence[Any], build: ColumnBuilder) -> dict[str, pa.Array]:
    types = set(map(type, datas))
    if len(types) == 1:
        (cls,) = types
        cols = dict(zip(DATA_COLUMNS, lift(cls, datas, build), strict=True))
        kind, subtype = KIND_OF[cls]
        cols["payload_type"] = build.repeat(kind, pa.string())
        if cls is CustomData:
            subtypes = [d.custom_type for d in datas]
            cols["payload_subtype"] = build.column(subtypes, pa.string(), few=True)
        else:
            cols["payload_subtype"] = build.repeat(subtype, pa.string())
        return cols
    # A mixed batch: lift each variant's rows together, then restore the input order.
    groups: dict[type, list[int]] = {}
    for i, d in enumerate(datas):
        groups.setdefault(type(d), []).append(i)
    order: list[int] = []
    parts: list[list[pa.Array]] = []
    for cls, positions in groups.items():
        order.extend(positions)
        parts.append(lift(cls, [datas[i] for i in positions], ColumnBuilder(len(positions))))
    restore = pc.sort_indices(pa.array(order, pa.int64()))
    cols = {
        name: pa.concat_arrays([p[k] for p in parts]).take(restore)
        for k, name in enumerate(DATA_COLUMNS)
    }
    kinds = [KIND_OF[type(d)] for d in datas]
    cols["payload_type"] = pa.array([k for k, _ in kinds], pa.string())
    cols["payload_subtype"] = pa.array(
        [d.custom_type if k == "custom" else s for d, (k, s) in zip(datas, kinds, strict=True)],
        pa.string(),
    )
    return cols


__all__ = ["Errors", "Rules", "normalize_batch"]
