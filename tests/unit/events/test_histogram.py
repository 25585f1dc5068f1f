"""Quantiles of merged histograms: nearest rank over the expanded values."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from analytics_hub.events.histogram import quantile, quantiles, value_of

QS = [0.5, 0.95, 0.99, 0.0, 1.0, 0.9, 0.01]
pairs = st.lists(st.tuples(st.integers(-500, 1500), st.integers(0, 50)), min_size=0, max_size=60)


def _nearest_rank(bins: list[tuple[int, int]], q: float) -> float | None:
    """The oracle: every bin written out once per count, sorted, the ceil(q n)-th."""
    values = sorted(b for b, c in bins for _ in range(c))
    if not values:
        return None
    return value_of(values[max(1, math.ceil(q * len(values))) - 1])


@given(pairs)
def test_quantiles_are_the_nearest_rank_of_the_expanded_values(
    bins: list[tuple[int, int]],
) -> None:
    # Bins repeat and come unordered, as merged rollup rows give them.
    assert quantiles(bins, QS) == [_nearest_rank(bins, q) for q in QS]
    assert [quantile(bins, q) for q in QS] == [_nearest_rank(bins, q) for q in QS]


def test_an_empty_histogram_has_no_quantile() -> None:
    assert quantiles([], [0.5, 0.99]) == [None, None]
    assert quantiles([(3, 0)], [0.5]) == [None]
    assert quantiles([(3, 4)], []) == []
