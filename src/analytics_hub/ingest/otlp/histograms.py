"""OTLP histogram buckets as explicit bounds and counts, checked.

Both histogram kinds are stored the same way: explicit, strictly increasing, finite
``bounds`` and one more count than bounds (bucket ``i`` holds values in
``(bounds[i-1], bounds[i]]``, the first from minus infinity, the last to plus infinity).
An exponential histogram's buckets are written out: bucket ``k`` of scale ``s`` ends at
``2 ** (k * 2 ** -s)``; negative buckets mirror the positive ones, and the zero bucket
ends at the zero threshold. The mapping is exact for the counts; only which end of a
bucket is open differs for negative values, which no percentile can see.

Anything that cannot be such a histogram (lengths that do not match, bounds out of
order, infinite or NaN, counts beyond 64-bit signed integers, more buckets than
:data:`MAX_BUCKETS`) is an :class:`~analytics_hub.ingest.otlp.attributes.ItemProblem`
for its data point, found before any per-bucket work on a hostile array.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from analytics_hub.ingest.otlp.attributes import ItemProblem

#: at most this many bounds per data point (an SDK's exponential histogram has up to 320)
MAX_BUCKETS = 4096
#: counts are stored as signed 64-bit integers
MAX_COUNT = 2**63 - 1
#: the scales the OTLP specification allows for exponential histograms
MIN_SCALE, MAX_SCALE = -10, 20

Buckets = tuple[tuple[float, ...], tuple[int, ...]]


def checked_count(value: int, field: str) -> int:
    """``value`` when it fits a stored count, else an :class:`ItemProblem`."""
    if value > MAX_COUNT:
        raise ItemProblem(field, f"{value} is larger than the largest count kept (2**63 - 1)")
    return value


def explicit(bounds: Sequence[float], counts: Sequence[int]) -> Buckets:
    """The buckets of an explicit-bucket histogram data point, checked.

    No counts at all is a histogram without buckets (count and sum only), as the OTLP
    specification allows.
    """
    if len(bounds) > MAX_BUCKETS:
        raise ItemProblem(
            "explicit_bounds", f"{len(bounds)} bounds; at most {MAX_BUCKETS} are accepted"
        )
    if not counts:
        return (), ()
    if len(counts) != len(bounds) + 1:
        raise ItemProblem(
            "bucket_counts",
            f"{len(counts)} bucket counts for {len(bounds)} bounds: there must be one more "
            "count than bounds",
        )
    _check_bounds(bounds, "explicit_bounds")
    return tuple(bounds), tuple(checked_count(c, "bucket_counts") for c in counts)


def exponential(
    *,
    scale: int,
    zero_count: int,
    zero_threshold: float,
    positive: tuple[int, Sequence[int]],
    negative: tuple[int, Sequence[int]],
) -> Buckets:
    """The buckets of an exponential histogram data point, written out as explicit ones.

    ``positive`` and ``negative`` are ``(offset, counts)``.
    """
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise ItemProblem("scale", f"{scale} is outside [{MIN_SCALE}, {MAX_SCALE}]")
    (p_offset, p_counts), (n_offset, n_counts) = positive, negative
    if len(p_counts) + len(n_counts) + 3 > MAX_BUCKETS:
        raise ItemProblem(
            "positive.bucket_counts",
            f"{len(p_counts) + len(n_counts)} buckets; at most {MAX_BUCKETS - 3} are accepted",
        )
    if not math.isfinite(zero_threshold) or zero_threshold < 0:
        raise ItemProblem("zero_threshold", f"must be a finite number >= 0, got {zero_threshold!r}")
    step = 2.0**-scale  # log2 of the base
    ends: list[tuple[float, int]] = []  # (upper bound, count) in increasing order
    if n_counts:
        k = len(n_counts)
        ends.append((-_power(n_offset + k, step), 0))
        ends += [(-_power(n_offset + j, step), n_counts[j]) for j in range(k - 1, -1, -1)]
    ends.append((zero_threshold, zero_count))
    if p_counts:
        first = _power(p_offset, step)
        if first > zero_threshold:
            ends.append((first, 0))  # between the zero bucket and the first positive one
        ends += [(_power(p_offset + j + 1, step), c) for j, c in enumerate(p_counts)]
    bounds = tuple(b for b, _ in ends)
    _check_bounds(bounds, "scale")
    counts = (*(checked_count(c, "bucket_counts") for _, c in ends), 0)
    return bounds, counts


def _power(index: int, step: float) -> float:
    try:
        return math.pow(2.0, index * step)
    except OverflowError:
        raise ItemProblem(
            "offset", f"bucket {index} of this scale is beyond the range of a double"
        ) from None


def _check_bounds(bounds: Sequence[float], field: str) -> None:
    previous = -math.inf
    for bound in bounds:
        if not math.isfinite(bound):
            raise ItemProblem(field, f"bounds must be finite, got {bound!r}")
        if bound <= previous:
            raise ItemProblem(field, "bounds must be strictly increasing")
        previous = bound


__all__ = [
    "MAX_BUCKETS",
    "MAX_COUNT",
    "MAX_SCALE",
    "MIN_SCALE",
    "Buckets",
    "checked_count",
    "explicit",
    "exponential",
]
