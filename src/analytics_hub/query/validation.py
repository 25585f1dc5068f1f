"""Check a query's parts against the field catalogue and turn them into logical terms.

The pydantic models have checked shape; here each filter, group key, aggregate and sort
key is checked against the catalogue (known field, operator allowed for its kind, value
of the right type) and normalised (UUIDs canonical, timestamps naive UTC, severities to
levels). Every failure is a :class:`~analytics_hub.errors.ValidationError` that names
the field, so the API can tell the user exactly what to change.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from analytics_hub.errors import ValidationError
from analytics_hub.events.columns import SEVERITIES
from analytics_hub.query.fields import FieldSpec, Op, resolve_field
from analytics_hub.query.model import (
    MAX_IN_VALUES,
    Aggregate,
    AggregateFn,
    Bucket,
    BucketKey,
    Filter,
    OrderBy,
)

MAX_STRING_VALUE = 4096
QUANTILES: dict[str, float] = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}
BUCKET_SECONDS: dict[Bucket, int] = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}
BUCKET_KEY = "bucket"

_ALIAS_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ORDER_OPS: frozenset[Op] = frozenset({"gt", "gte", "lt", "lte"})
_SEVERITY_LEVEL = FieldSpec(name="severity", kind="int", column="severity_level")

Value = str | int | float | bool | datetime | None


@dataclass(frozen=True, slots=True)
class Predicate:
    """One normalised filter. ``values`` holds the list of ``in``/``not_in``.

    ``numeric`` is set for JSON fields compared as numbers (the dialect casts them).
    """

    field: FieldSpec
    op: Op
    value: Value = None
    values: tuple[Value, ...] = ()
    numeric: bool = False


@dataclass(frozen=True, slots=True)
class GroupKey:
    """A group-by term: a field, or the time bucket (output name ``bucket``)."""

    name: str
    field: FieldSpec | None = None
    bucket: Bucket | None = None


@dataclass(frozen=True, slots=True)
class AggSpec:
    """An aggregate with its output alias; ``quantile`` is set for p50..p99."""

    fn: AggregateFn
    field: FieldSpec | None
    alias: str
    quantile: float | None = None


@dataclass(frozen=True, slots=True)
class SortKey:
    """Sort by an output column (a group key name or an aggregate alias)."""

    name: str
    descending: bool


def _bad_value(spec: FieldSpec, expected: str, value: object) -> ValidationError:
    return ValidationError(
        f"field {spec.name!r} expects {expected}, got {type(value).__name__} {_clip(value)}"
    )


def _clip(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(spec: FieldSpec, value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad_value(spec, "a number", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad_value(spec, "a finite number", value)
    return value


def _string(spec: FieldSpec, value: object) -> str:
    if not isinstance(value, str):
        raise _bad_value(spec, "a string", value)
    if len(value) > MAX_STRING_VALUE:
        raise ValidationError(
            f"a value for field {spec.name!r} is longer than {MAX_STRING_VALUE} characters"
        )
    return value


def parse_timestamp(spec_name: str, value: object) -> datetime:
    """An RFC 3339 string with an offset -> naive UTC datetime (how the store keeps time)."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(UTC).replace(tzinfo=None)
    raise ValidationError(
        f"field {spec_name!r} expects an RFC 3339 timestamp with an offset "
        f"(e.g. 2025-01-31T12:00:00Z), got {_clip(value)}"
    )


def _scalar(spec: FieldSpec, op: Op, value: object) -> tuple[Value, bool]:
    """Check one value against its field and operator; return it normalised and whether
    a JSON field is compared as a number."""
    kind = spec.kind
    if kind == "string":
        return _string(spec, value), False
    if kind == "uuid":
        text = _string(spec, value)
        try:
            return str(uuid.UUID(text)), False
        except ValueError:
            raise _bad_value(spec, "a UUID", value) from None
    if kind == "timestamp":
        return parse_timestamp(spec.name, value), False
    if kind in ("int", "float"):
        return _number(spec, value), False
    if kind == "severity":
        text = _string(spec, value)
        if text not in SEVERITIES:
            raise ValidationError(
                f"field 'severity' expects one of {', '.join(SEVERITIES)}, got {_clip(value)}"
            )
        return (SEVERITIES.index(text) if op in _ORDER_OPS else text), False
    # JSON paths: strings compare as text, numbers as numbers, booleans as 'true'/'false'
    if op in _ORDER_OPS:
        return _number(spec, value), True
    if op in ("contains", "starts_with"):
        return _string(spec, value), False
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    if isinstance(value, int | float):
        return _number(spec, value), True
    return _string(spec, value), False


def check_filter(f: Filter) -> Predicate:
    """Validate one filter and normalise its value."""
    spec = resolve_field(f.field)
    op: Op = f.op
    if op not in spec.ops:
        allowed = ", ".join(sorted(spec.ops))
        raise ValidationError(
            f"operator {op!r} does not apply to field {spec.name!r} ({spec.kind}); "
            f"allowed: {allowed}"
        )
    target = _SEVERITY_LEVEL if spec.kind == "severity" and op in _ORDER_OPS else spec
    if op in ("in", "not_in"):
        if not isinstance(f.value, list) or not f.value:
            raise ValidationError(
                f"operator {op!r} on field {spec.name!r} expects a non-empty list"
            )
        if len(f.value) > MAX_IN_VALUES:
            raise ValidationError(
                f"operator {op!r} on field {spec.name!r} takes at most {MAX_IN_VALUES} values, "
                f"got {len(f.value)}"
            )
        checked = [_scalar(spec, op, v) for v in f.value]
        kinds = {numeric for _, numeric in checked}
        if len(kinds) > 1:
            raise ValidationError(
                f"the values for field {spec.name!r} mix numbers and strings; use one type"
            )
        return Predicate(target, op, values=tuple(v for v, _ in checked), numeric=kinds == {True})
    if isinstance(f.value, list):
        raise ValidationError(f"operator {op!r} on field {spec.name!r} expects a single value")
    if f.value is None:
        if op not in ("eq", "ne"):
            raise ValidationError(
                f"operator {op!r} on field {spec.name!r} needs a value (null works with eq/ne)"
            )
        return Predicate(target, op, None)
    value, numeric = _scalar(spec, op, f.value)
    return Predicate(target, op, value, numeric=numeric)


def check_group_by(items: list[str | BucketKey]) -> tuple[GroupKey, ...]:
    """Validate group-by terms: known groupable fields, no duplicates, one bucket at most."""
    keys: list[GroupKey] = []
    for item in items:
        if isinstance(item, BucketKey):
            if any(k.bucket for k in keys):
                raise ValidationError("group_by may hold one time bucket at most")
            keys.append(GroupKey(BUCKET_KEY, bucket=item.bucket))
            continue
        spec = resolve_field(item)
        if spec.kind == "timestamp":
            raise ValidationError(
                f"cannot group by {spec.name!r}: group by a time bucket instead, "
                'e.g. {"bucket": "1h"}'
            )
        if spec.kind == "float":
            raise ValidationError(
                f"cannot group by {spec.name!r}: it is a measurement; aggregate it instead"
            )
        if any(k.name == spec.name for k in keys):
            raise ValidationError(f"field {spec.name!r} appears twice in group_by")
        keys.append(GroupKey(spec.name, field=spec))
    return tuple(keys)


def _default_alias(fn: str, field: FieldSpec | None) -> str:
    if field is None:
        return fn
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{fn}_{field.name}")


def check_aggregate(agg: Aggregate) -> AggSpec:
    """Validate one aggregate: the field it needs, its type, and its alias."""
    field = resolve_field(agg.field) if agg.field is not None else None
    if agg.fn in ("sum", "avg", "min", "max", *QUANTILES):
        if field is None:
            raise ValidationError(f"aggregate {agg.fn!r} needs a numeric field")
        if not field.numeric:
            raise ValidationError(
                f"aggregate {agg.fn!r} needs a numeric field; {field.name!r} is {field.kind}"
            )
    if agg.fn == "count_distinct" and field is None:
        raise ValidationError("aggregate 'count_distinct' needs a field")
    alias = agg.as_ if agg.as_ is not None else _default_alias(agg.fn, field)
    if not alias.isascii() or _ALIAS_RE.fullmatch(alias) is None:
        raise ValidationError(
            f"invalid alias {alias!r}: letters, digits and _, starting with a letter or _"
        )
    return AggSpec(agg.fn, field, alias, QUANTILES.get(agg.fn))


def check_aggregates(
    aggregates: list[Aggregate], group_keys: tuple[GroupKey, ...]
) -> tuple[AggSpec, ...]:
    """Validate all aggregates; aliases must be unique and differ from group key names."""
    specs = tuple(check_aggregate(a) for a in aggregates)
    taken = {k.name for k in group_keys}
    for spec in specs:
        if spec.alias in taken:
            raise ValidationError(
                f"output name {spec.alias!r} is used twice; give the aggregate another 'as'"
            )
        taken.add(spec.alias)
    return specs


def check_order(
    order_by: list[OrderBy], group_keys: tuple[GroupKey, ...], aggs: tuple[AggSpec, ...]
) -> tuple[SortKey, ...]:
    """Validate sort keys of an aggregate query and complete them into a total order.

    The group keys are appended (ascending) as tie-breakers: a group row is unique by
    its keys, so pages never overlap or skip a row.
    """
    outputs = [k.name for k in group_keys] + [a.alias for a in aggs]
    keys: list[SortKey] = []
    for item in order_by:
        if item.field not in outputs:
            raise ValidationError(
                f"cannot order by {item.field[:80]!r}: order_by names a group key or an "
                f"aggregate alias ({', '.join(outputs) or 'none in this query'})"
            )
        if any(k.name == item.field for k in keys):
            raise ValidationError(f"{item.field!r} appears twice in order_by")
        keys.append(SortKey(item.field, item.direction == "desc"))
    if not keys:
        # default: time first (a series reads left to right), then the other keys
        keys.extend(SortKey(k.name, False) for k in group_keys if k.bucket)
    for k in group_keys:
        if all(s.name != k.name for s in keys):
            keys.append(SortKey(k.name, False))
    return tuple(keys)


def check_raw_order(order_by: list[OrderBy]) -> bool:
    """Raw events are ordered by time only (the keyset cursor needs it); True = newest first."""
    if not order_by:
        return True
    if len(order_by) > 1 or order_by[0].field != "timestamp":
        raise ValidationError(
            "a query without aggregates lists raw events, which are ordered by 'timestamp' "
            "only; add aggregates or group_by to order by other fields"
        )
    return order_by[0].direction == "desc"


__all__ = [
    "BUCKET_KEY",
    "BUCKET_SECONDS",
    "QUANTILES",
    "AggSpec",
    "GroupKey",
    "Predicate",
    "SortKey",
    "Value",
    "check_aggregate",
    "check_aggregates",
    "check_filter",
    "check_group_by",
    "check_order",
    "check_raw_order",
    "parse_timestamp",
]
