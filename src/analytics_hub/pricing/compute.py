"""Vectorised pricing of a batch of model calls (Arrow columns in, costs out).

A batch holds few distinct (provider, model) pairs, so each pair is looked up once and
its rates spread over the rows with one ``take``; the arithmetic is a handful of numpy
passes. The step runs on every ingested batch: it reads each column into numpy once and
keeps the number of Arrow calls small, because their fixed cost (microseconds each), not
the per-row work, dominates for batches of hundreds of events (bench/pricing.py).

Per row, with ``r`` the reasoning tokens and ``c`` the cached input tokens::

    cost = (input - c) * input_rate + c * cached_rate
         + visible_output * output_rate + r * reasoning_rate

``input_tokens`` includes cached ones (c is capped at input). ``output_tokens`` includes
reasoning ones unless the emitter said otherwise, which lifting records by adding them to
``total_tokens``: so reasoning is outside the output when total > input + output, and
visible_output = output - r (at least 0) when it is inside. A rate missing for a row (an
unknown model, a day before its first price) gives NaN: the caller marks it unpriced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analytics_hub.pricing.book import DAY_US, NO_RATE, Resolved

# The columns of EVENT_SCHEMA that pricing reads.
INPUT_COLUMNS: tuple[str, ...] = (
    "ts",
    "provider",
    "model_id",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "total_tokens",
)
DECIMALS = 12  # costs are rounded to 1e-12 USD
LLM_CALL = "llm_call"  # the only payload subtype that is priced

Resolve = Callable[[str, str], Resolved | None]
_SOURCES = pa.array(["computed", "unpriced"])


@dataclass(frozen=True, slots=True)
class _Numbers:
    """The numeric pricing inputs of a batch as int64 numpy arrays (nulls as 0)."""

    ts: np.ndarray  # microseconds since the epoch
    inp: np.ndarray
    out: np.ndarray
    cached: np.ndarray
    reasoning: np.ndarray
    total: np.ndarray  # -1 when null

    @classmethod
    def of(cls, table: pa.Table) -> _Numbers:
        return cls(
            ts=_ints(table.column("ts")),
            inp=_ints(table.column("input_tokens")),
            out=_ints(table.column("output_tokens")),
            cached=_ints(table.column("cached_input_tokens")),
            reasoning=_ints(table.column("reasoning_tokens")),
            total=_ints(table.column("total_tokens"), null=-1),
        )


def _ints(column: pa.ChunkedArray, null: int = 0) -> np.ndarray:
    """An integer (or timestamp) column as int64 numpy values, nulls as ``null``."""
    nulls = column.null_count
    if nulls == len(column):  # common: no cached or reasoning counts in the batch
        return np.full(len(column), null, dtype=np.int64)
    values: np.ndarray = column.to_numpy()  # nulls as NaN (float64); timestamps datetime64
    if nulls:
        values = np.nan_to_num(values, nan=null)
    elif values.dtype.kind == "M":
        return values.view(np.int64)
    return values.astype(np.int64)


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str | None]]:
    """Dictionary codes of a string column and its distinct values (null last)."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    names: list[str | None] = encoded.dictionary.to_pylist()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    if encoded.indices.null_count:
        codes = np.nan_to_num(codes, nan=len(names))
        names.append(None)
    return codes.astype(np.int64), names


def _key_indices(table: pa.Table) -> tuple[np.ndarray, list[tuple[str, str] | None]]:
    """Per row, the index of its (provider, model) pair in the returned list.

    Each column is dictionary-encoded (one hash pass each) and the two codes combined
    into one number per pair; the distinct numbers are found through a presence table
    when the product of the two dictionaries is small (it is: a batch names a few
    providers and models), else by sorting.
    """
    providers, provider_names = _codes(table.column("provider"))
    models, model_names = _codes(table.column("model_id"))
    width = len(model_names)
    pair = providers * width + models
    cells = len(provider_names) * width
    if cells <= 4 * len(pair) + 64:
        present = np.zeros(cells, dtype=bool)
        present[pair] = True
        distinct = np.flatnonzero(present)
        remap = np.zeros(cells, dtype=np.int64)
        remap[distinct] = np.arange(len(distinct))
        indices = remap[pair]
    else:
        distinct, inverse = np.unique(pair, return_inverse=True)
        indices = inverse.reshape(-1)
    keys: list[tuple[str, str] | None] = []
    for code in distinct.tolist():
        provider, model = provider_names[code // width], model_names[code % width]
        keys.append(None if provider is None or model is None else (provider, model))
    return indices, keys


def _rates(table: pa.Table, ts: np.ndarray, resolve: Resolve) -> np.ndarray:
    """Per row, the four per-token rates (input, output, cached, reasoning); NaN: none."""
    indices, keys = _key_indices(table)
    first_day, last_day = int(ts.min()) // DAY_US, int(ts.max()) // DAY_US
    found = [None if key is None else resolve(*key) for key in keys]
    if first_day == last_day:  # the usual batch: one day, so one rate per pair
        rows = [NO_RATE if f is None else f.day_rates(first_day) for f in found]
        rates: np.ndarray = np.array(rows)[indices]
        return rates
    # Several days: each row at the rate of its own day (a price may change between).
    rates = np.full((len(ts), 4), np.nan)
    days = ts // DAY_US
    for k, resolved in enumerate(found):
        if resolved is None:
            continue
        rows_of_key = np.flatnonzero(indices == k)
        key_days = days[rows_of_key]
        distinct, inverse = np.unique(key_days, return_inverse=True)
        day_rates = np.array([resolved.day_rates(int(d)) for d in distinct])
        rates[rows_of_key] = day_rates[inverse.reshape(-1)]
    return rates


def _costs(n: _Numbers, rates: np.ndarray) -> np.ndarray:
    cached = np.minimum(np.maximum(n.cached, 0), n.inp)
    apart = n.total > n.inp + n.out  # reasoning not included in output_tokens
    reasoning = np.where(apart, n.reasoning, np.minimum(n.reasoning, n.out))
    visible = np.where(apart, n.out, n.out - reasoning)
    costs: np.ndarray = (
        (n.inp - cached) * rates[:, 0]
        + cached * rates[:, 2]
        + visible * rates[:, 1]
        + reasoning * rates[:, 3]
    )
    # Whole picodollars: drops the binary noise of the products (0.0054, not ...3999).
    return np.round(costs, DECIMALS)


def compute_costs(table: pa.Table, resolve: Resolve) -> np.ndarray:
    """USD per row of ``table`` (which has ``INPUT_COLUMNS``); NaN where no price applies.

    Rows are priced whatever their kind: callers choose which rows need a cost.
    """
    if table.num_rows == 0:
        return np.empty(0)
    numbers = _Numbers.of(table)
    return _costs(numbers, _rates(table, numbers.ts, resolve))


def price_batch(table: pa.Table, resolve: Resolve) -> pa.Table:
    """``table`` (``EVENT_SCHEMA``) with its model calls priced.

    A model call (``payload_subtype`` ``llm_call``) that carries tokens but no cost gets
    the computed cost and ``cost_source`` ``computed``, or, when no price applies, a null
    cost and ``unpriced``. Provided costs, calls without tokens and every other event are
    left as they are. Returns ``table`` itself when nothing needs a price.
    """
    cost = table.column("cost_usd")
    if cost.null_count == 0 or table.num_rows == 0:
        return table
    old = cost.to_numpy()  # float64, nulls as NaN (a stored cost is never NaN)
    calls = pc.equal(table.column("payload_subtype"), LLM_CALL).to_numpy()
    numbers = _Numbers.of(table)
    todo = np.isnan(old) & calls & (numbers.inp + numbers.out + numbers.reasoning > 0)
    if not todo.any():
        return table
    costs = _costs(numbers, _rates(table, numbers.ts, resolve))
    missing = np.isnan(costs)
    new = np.where(todo, costs, old)
    # "computed" or "unpriced" per row by one take from a two-string array.
    fresh = _SOURCES.take(pa.array(missing.astype(np.int8)))
    if todo.all():
        sources = fresh
    else:
        sources = pc.if_else(pa.array(todo), fresh, table.column("cost_source"))
    schema = table.schema
    table = table.set_column(
        schema.get_field_index("cost_usd"),
        schema.field("cost_usd"),
        pa.array(new, pa.float64(), mask=np.isnan(new)),
    )
    return table.set_column(
        schema.get_field_index("cost_source"), schema.field("cost_source"), sources
    )


def costs_array(table: pa.Table, resolve: Resolve) -> pa.Array:
    """:func:`compute_costs` as a float64 Arrow array, null where no price applies."""
    costs = compute_costs(table, resolve)
    return pa.array(costs, pa.float64(), mask=np.isnan(costs))


__all__ = [
    "DECIMALS",
    "INPUT_COLUMNS",
    "LLM_CALL",
    "Resolve",
    "compute_costs",
    "costs_array",
    "price_batch",
]
