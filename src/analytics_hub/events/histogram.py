"""Log-bucketed latency histograms: the mergeable summary behind rollup percentiles.

A value ``v > 0`` falls in bin ``ceil(log(v) / log(GAMMA))``; every value in a bin is
within ``ALPHA`` (1 %) of the bin's representative value, so any percentile computed
from merged bins has a relative error of at most 1 % (the DDSketch guarantee). Values
below ``MIN_VALUE`` share the lowest bin. The formula is plain SQL too
(``ceil(ln(greatest(v, MIN_VALUE)) / ln(GAMMA))``) so that every store computes the same
bins as this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

ALPHA = 0.01
GAMMA = (1 + ALPHA) / (1 - ALPHA)
LN_GAMMA = math.log(GAMMA)
MIN_VALUE = 0.001  # one microsecond, in milliseconds


def bin_of(value: float) -> int:
    """The bin index of ``value`` (milliseconds)."""
    return math.ceil(math.log(max(value, MIN_VALUE)) / LN_GAMMA)


def value_of(bin_index: int) -> float:
    """The representative value of a bin: within ALPHA of every value in it."""
    return 2.0 * GAMMA**bin_index / (GAMMA + 1.0)


def quantile(bins: Iterable[tuple[int, int]], q: float) -> float | None:
    """The ``q``-quantile (0..1) of a histogram given as ``(bin, count)`` pairs.

    Uses the nearest-rank definition on the merged counts. ``None`` for an empty
    histogram.
    """
    return quantiles(bins, (q,))[0]


def quantiles(bins: Iterable[tuple[int, int]], qs: Sequence[float]) -> list[float | None]:
    """Several quantiles of one histogram (as :func:`quantile`), in one pass over it.

    Bins may repeat (their counts add up) and come in any order.
    """
    merged: dict[int, int] = {}
    for b, c in bins:
        merged[b] = merged.get(b, 0) + c
    total = sum(merged.values())
    if total <= 0:
        return [None] * len(qs)
    ranks = [max(1, math.ceil(q * total)) for q in qs]
    order = sorted(range(len(qs)), key=ranks.__getitem__)  # the quantiles, lowest first
    out: list[float | None] = [None] * len(qs)
    seen, j = 0, 0
    for b in sorted(merged):
        seen += merged[b]
        while j < len(order) and seen >= ranks[order[j]]:
            out[order[j]] = value_of(b)
            j += 1
        if j == len(order):
            return out
    for k in order[j:]:  # pragma: no cover - unreachable when counts are positive
        out[k] = value_of(max(merged))
    return out


__all__ = [
    "ALPHA",
    "GAMMA",
    "LN_GAMMA",
    "MIN_VALUE",
    "bin_of",
    "quantile",
    "quantiles",
    "value_of",
]
