"""The query API's filters, evaluated in memory on the rows of one store commit.

The live feed cannot ask the store whether a new event matches a subscriber's filters
(one query per commit and subscriber would cost more than the commit), so it evaluates
them on the Arrow table the writer just committed. The filters are the query API's own
models, checked and normalised by :func:`~analytics_hub.query.validation.check_filter`
(the same field catalogue, operators, value types and messages); only the evaluation
differs, and it follows the semantics the SQL dialects give them
(``docs/api/query.md``):

- ``eq null`` matches a missing value, ``ne null`` a present one; ``ne`` and ``not_in``
  also match a missing value; ``contains`` and ``starts_with`` are literal and
  case-sensitive;
- severities order by level (``severity gte warning``);
- ``tags.<key>`` compares the tag's text; ``payload.<path>`` compares the value's text
  (``true``/``false`` for booleans), or, against a number, the value read as a number
  (as the dialect's ``TRY_CAST``: text that is no number matches nothing).

Column fields are evaluated with ``pyarrow.compute`` (vectorised); tag and payload paths
decode their JSON column once per table and are evaluated in Python.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from analytics_hub.errors import ValidationError
from analytics_hub.query.model import MAX_FILTERS, Filter
from analytics_hub.query.validation import Predicate, Value, check_filter

_COMPARE: dict[str, Callable[..., Any]] = {
    "gt": pc.greater,
    "gte": pc.greater_equal,
    "lt": pc.less,
    "lte": pc.less_equal,
}
_NUMBER_KINDS = frozenset({"int", "float"})
_json = msgspec.json.Decoder()
_json_text = msgspec.json.Encoder()
_MISSING = object()


class Rows:
    """The rows of one tenant in one commit, with their JSON columns decoded on demand.

    A table is decoded at most once per column however many subscribers filter on tags
    or payload paths.
    """

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self._decoded: dict[str, list[Any]] = {}

    def json(self, column: str) -> list[Any]:
        """The JSON column ``column`` (``tags`` or ``payload``), decoded row by row."""
        found = self._decoded.get(column)
        if found is None:
            found = [_decode(text) for text in self.table.column(column).to_pylist()]
            self._decoded[column] = found
        return found


def _decode(text: object) -> Any:
    if not isinstance(text, str | bytes):
        return None
    try:
        return _json.decode(text)
    except msgspec.DecodeError:
        return None  # not JSON after all: no path can match inside it


class LiveFilter:
    """A conjunction of the query API's filters, checked once, evaluated per commit."""

    def __init__(self, filters: Sequence[Filter] = ()) -> None:
        """Check ``filters`` like a query's (``ValidationError`` names the bad one)."""
        if len(filters) > MAX_FILTERS:
            raise ValidationError(f"at most {MAX_FILTERS} filters, got {len(filters)}")
        self.filters: tuple[Filter, ...] = tuple(filters)
        self._predicates = tuple(check_filter(f) for f in filters)

    def describe(self) -> list[dict[str, Any]]:
        """The filters as JSON objects (``field``, ``op``, ``value``), as given."""
        return [f.model_dump(mode="json") for f in self.filters]

    def mask(self, rows: Rows) -> pa.ChunkedArray:
        """True for every row that matches all filters (never null)."""
        table = rows.table
        result: pa.ChunkedArray | None = None
        for pred in self._predicates:
            if pred.field.json_path is None:
                part = _column_mask(table.column(pred.field.column), pred)
            else:
                part = pa.chunked_array([pa.array(_json_mask(rows, pred), pa.bool_())])
            part = pc.fill_null(part, False)
            result = part if result is None else pc.and_(result, part)
        if result is None:
            return pa.chunked_array([pa.array([True] * table.num_rows, pa.bool_())])
        return result


# -- stored columns ---------------------------------------------------------------------


def _column_mask(column: pa.ChunkedArray, pred: Predicate) -> pa.ChunkedArray:
    kind = pred.field.kind
    if kind in _NUMBER_KINDS:
        # Compare as doubles, as SQL does between an integer column and 2.5.
        column = pc.cast(column, pa.float64())
    op = pred.op
    if op in ("in", "not_in"):
        value_set = pa.array([_scalar(v, kind) for v in pred.values], column.type)
        found = pc.is_in(column, value_set=value_set)  # a missing value is in no list
        return pc.invert(found) if op == "not_in" else found
    if pred.value is None:
        return pc.is_null(column) if op == "eq" else pc.is_valid(column)
    value = pa.scalar(_scalar(pred.value, kind), column.type)
    if op == "eq":
        return pc.equal(column, value)
    if op == "ne":
        return pc.or_kleene(pc.not_equal(column, value), pc.is_null(column))
    if op == "contains":
        return pc.match_substring(column, pattern=str(pred.value))
    if op == "starts_with":
        return pc.starts_with(column, pattern=str(pred.value))
    compare = _COMPARE[op]
    result: pa.ChunkedArray = compare(column, value)
    return result


def _scalar(value: Value, kind: str) -> Value:
    if kind in _NUMBER_KINDS and isinstance(value, int | float):
        return float(value)
    return value


# -- tags.<key> and payload.<path> ------------------------------------------------------


def _path(name: str) -> tuple[str, list[str | int]]:
    """The JSON column and the path inside it of a ``tags.`` or ``payload.`` field."""
    if name.startswith("tags."):
        return "tags", [name[len("tags.") :]]  # a tag key may hold dots: one step
    steps: list[str | int] = [
        int(s) if s.isdigit() else s for s in name[len("payload.") :].split(".")
    ]
    return "payload", steps


def _extract(document: Any, steps: list[str | int]) -> Any:
    node = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _MISSING
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return _MISSING
            node = node[step]
    return node


def _text(value: Any) -> str | None:
    """A JSON value as the dialect's ``json_extract_string`` gives it (None: missing)."""
    if value is _MISSING or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return _json_text.encode(value).decode()


def _number(text: str | None) -> float | None:
    """The text read as a number, or None (as ``TRY_CAST(... AS DOUBLE)``)."""
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def _json_mask(rows: Rows, pred: Predicate) -> list[bool]:
    column, steps = _path(pred.field.name)
    texts = [_text(_extract(doc, steps)) for doc in rows.json(column)]
    if pred.numeric:
        test = _numeric_test(pred)
        return [test(_number(t)) for t in texts]
    text_test = _text_test(pred)
    return [text_test(t) for t in texts]


def _numeric_test(pred: Predicate) -> Callable[[float | None], bool]:
    op = pred.op
    if op in ("in", "not_in"):
        wanted = {float(v) for v in pred.values if isinstance(v, int | float)}
        if op == "in":
            return lambda x: x is not None and x in wanted
        return lambda x: x is None or x not in wanted
    target = float(pred.value) if isinstance(pred.value, int | float) else math.nan
    tests: dict[str, Callable[[float | None], bool]] = {
        "eq": lambda x: x is not None and x == target,
        "ne": lambda x: x is None or x != target,
        "gt": lambda x: x is not None and x > target,
        "gte": lambda x: x is not None and x >= target,
        "lt": lambda x: x is not None and x < target,
        "lte": lambda x: x is not None and x <= target,
    }
    return tests[op]


def _text_test(pred: Predicate) -> Callable[[str | None], bool]:
    op = pred.op
    if op in ("in", "not_in"):
        wanted = {str(v) for v in pred.values}
        if op == "in":
            return lambda t: t is not None and t in wanted
        return lambda t: t is None or t not in wanted
    if pred.value is None:
        return (lambda t: t is None) if op == "eq" else (lambda t: t is not None)
    target = str(pred.value)
    tests: dict[str, Callable[[str | None], bool]] = {
        "eq": lambda t: t == target,
        "ne": lambda t: t != target,
        "contains": lambda t: t is not None and target in t,
        "starts_with": lambda t: t is not None and t.startswith(target),
    }
    return tests[op]


__all__ = ["LiveFilter", "Rows"]
