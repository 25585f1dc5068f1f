"""From stored buckets to a forecastable series: bucket policy, horizons, gaps.

The API forecasts a metric that the query layer produces per time bucket. This module is
the arithmetic around that, independent of how the buckets are fetched:

- :data:`BUCKETS`: per bucket size, the history read by default and at most, and the
  least history a forecast needs;
- :func:`parse_horizon`: a horizon given as a duration (``"48h"``, ``"30d"``) or as a
  number of buckets, checked against the limits;
- :func:`regularise`: a gap-free series from the rows a query returns. Buckets before
  the first one with data are dropped (no data yet is not zero activity); later empty
  buckets are filled: with zero for counts and sums (no events *is* zero events, zero
  cost), with the previous value for averages, extremes and percentiles (they have no
  value without events, and carrying the last one forward is the forecast a user would
  make by eye).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from analytics_hub.analytics.forecast.base import FloatArray
from analytics_hub.errors import HubError, ValidationError

Fill = Literal["zero", "carry"]

#: A forecast reaches at least this far ahead (or one bucket, when that is longer) ...
MIN_HORIZON = dt.timedelta(hours=1)
#: ... and at most this far.
MAX_HORIZON = dt.timedelta(days=30)
#: Buckets ahead, whatever their size: beyond this a smaller bucket is a request mistake.
MAX_STEPS = 1000


class InsufficientHistoryError(HubError):
    """The metric has too little history for a forecast; the message says how much."""

    status = 422
    code = "insufficient_history"


@dataclass(frozen=True, slots=True)
class BucketPolicy:
    """How a bucket size is forecast: the history read, and the least history usable."""

    name: str
    step: dt.timedelta
    default_history: dt.timedelta
    max_history: dt.timedelta
    min_points: int

    @property
    def min_history(self) -> dt.timedelta:
        """The least history a forecast needs."""
        return self.step * self.min_points


_H = dt.timedelta(hours=1)
_D = dt.timedelta(days=1)

#: Hourly data: four weeks (four weekly cycles). Eight took twice as long (about 4 s
#: for the ensemble and its back-test on 2 cores) for a small gain. Daily data: a year.
#: The least history is two cycles of the shortest season (2 days hourly, 2 weeks
#: daily); sub-hour buckets are forecast without seasons (see forecasting.md).
BUCKETS: dict[str, BucketPolicy] = {
    "1m": BucketPolicy("1m", dt.timedelta(minutes=1), _D, 3 * _D, 60),
    "5m": BucketPolicy("5m", dt.timedelta(minutes=5), 3 * _D, 14 * _D, 36),
    "15m": BucketPolicy("15m", dt.timedelta(minutes=15), 7 * _D, 28 * _D, 32),
    "1h": BucketPolicy("1h", _H, 28 * _D, 91 * _D, 48),
    "1d": BucketPolicy("1d", _D, 365 * _D, 730 * _D, 14),
}

_DURATION = re.compile(r"^\s*(\d{1,6})\s*(m|h|d|w)\s*$")
_UNITS = {
    "m": dt.timedelta(minutes=1),
    "h": dt.timedelta(hours=1),
    "d": dt.timedelta(days=1),
    "w": dt.timedelta(weeks=1),
}


def policy(bucket: str) -> BucketPolicy:
    """The policy of a bucket size (``1m``, ``5m``, ``15m``, ``1h``, ``1d``)."""
    try:
        return BUCKETS[bucket]
    except KeyError:
        raise ValidationError(
            f"bucket {bucket!r} cannot be forecast; use one of {', '.join(BUCKETS)}"
        ) from None


def parse_duration(text: str, *, field: str) -> dt.timedelta:
    """``"90m"``, ``"48h"``, ``"30d"`` or ``"2w"`` as a timedelta."""
    match = _DURATION.match(text)
    if match is None:
        raise _invalid(field, f"{text!r} is not a duration; write e.g. 90m, 48h, 30d or 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def describe(span: dt.timedelta) -> str:
    """A duration in the largest whole unit: ``"2 days"``, ``"36 hours"``, ``"5 minutes"``."""
    for unit, size in (("week", _D * 7), ("day", _D), ("hour", _H), ("minute", _UNITS["m"])):
        if span >= size and span % size == dt.timedelta(0):
            n = span // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return str(span)


def parse_horizon(value: str | int, bucket: BucketPolicy, *, field: str = "horizon") -> int:
    """Buckets ahead for a horizon given as a duration or a number of buckets.

    The horizon must be a whole number of buckets, from an hour (or one bucket) to 30
    days, and at most :data:`MAX_STEPS` buckets.
    """
    if isinstance(value, int):
        if value < 1:
            raise _invalid(field, f"give at least one bucket ahead, got {value}")
        span = bucket.step * value
    else:
        span = parse_duration(value, field=field)
        if span % bucket.step:
            raise _invalid(
                field,
                f"{value} is not a whole number of {bucket.name} buckets; give a multiple of"
                f" {describe(bucket.step)} or a number of buckets",
            )
    low = max(MIN_HORIZON, bucket.step)
    if not low <= span <= MAX_HORIZON:
        raise _invalid(
            field,
            f"the horizon must be from {describe(low)} to {describe(MAX_HORIZON)}, got"
            f" {describe(span)}",
        )
    steps = span // bucket.step
    if steps > MAX_STEPS:
        raise _invalid(
            field,
            f"{describe(span)} is {steps} {bucket.name} buckets, more than {MAX_STEPS}; use a"
            " larger bucket",
        )
    return steps


def history_span(
    bucket: BucketPolicy, requested: dt.timedelta | None, *, max_buckets: int
) -> dt.timedelta:
    """The history to read: the bucket's default, or ``requested`` within the limits.

    ``max_buckets`` is the query layer's limit on buckets in one query.
    """
    if requested is None:
        span = bucket.default_history
    elif requested % bucket.step or not bucket.min_history <= requested <= bucket.max_history:
        raise _invalid(
            "history",
            f"with {bucket.name} buckets the history must be a whole number of buckets from"
            f" {describe(bucket.min_history)} to {describe(bucket.max_history)}",
        )
    else:
        span = requested
    return min(span, bucket.step * max_buckets)


def floor_time(moment: dt.datetime, step: dt.timedelta) -> dt.datetime:
    """The start of the epoch-aligned bucket of ``step`` that holds ``moment`` (UTC)."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return epoch + (moment.astimezone(dt.UTC) - epoch) // step * step


@dataclass(frozen=True)
class RegularSeries:
    """A gap-free series: ``values[i]`` is the bucket starting at ``start + i * step``.

    ``filled`` counts the buckets that had no value and were filled (``fill`` says how).
    """

    start: dt.datetime
    step: dt.timedelta
    values: FloatArray
    filled: int
    fill: Fill

    @property
    def end(self) -> dt.datetime:
        """The end of the last bucket."""
        return self.start + self.step * int(self.values.size)


def regularise(
    rows: Iterable[tuple[dt.datetime, float | None]],
    *,
    start: dt.datetime,
    end: dt.datetime,
    step: dt.timedelta,
    fill: Fill,
) -> RegularSeries | None:
    """The buckets of ``[start, end)`` from ``(bucket start, value)`` rows, gaps filled.

    Leading buckets without a value are dropped; ``None`` when no bucket has one. Rows
    outside the range or off the bucket grid are a caller's bug.
    """
    n = (end - start) // step
    values = np.full(n, np.nan)
    for at, value in rows:
        offset = at - start
        index = offset // step
        if offset % step or not 0 <= index < n:
            raise ValueError(f"bucket {at.isoformat()} is not on the grid of [{start}, {end})")
        if value is not None and math.isfinite(value):
            values[index] = float(value)
    present = np.flatnonzero(~np.isnan(values))
    if present.size == 0:
        return None
    first = int(present[0])
    values = values[first:]
    missing = np.isnan(values)
    if fill == "zero":
        values[missing] = 0.0
    else:
        # Carry forward: the index of the last present value at or before each bucket.
        last = np.maximum.accumulate(np.where(missing, 0, np.arange(values.size)))
        values = values[last]
    return RegularSeries(start + step * first, step, values, int(missing.sum()), fill)


def check_enough(
    series: RegularSeries | None, bucket: BucketPolicy, *, searched_from: dt.datetime
) -> RegularSeries:
    """``series`` if it has :attr:`BucketPolicy.min_points`, else a message saying how much
    more is needed."""
    need = f"at least {bucket.min_points} {bucket.name} buckets ({describe(bucket.min_history)})"
    if series is None:
        raise InsufficientHistoryError(
            f"no data for this metric since {searched_from.isoformat()}; a forecast needs {need}"
            " of history",
            details={"needed_buckets": bucket.min_points, "buckets": 0},
        )
    have = int(series.values.size)
    if have < bucket.min_points:
        raise InsufficientHistoryError(
            f"not enough history: {have} {bucket.name} buckets since the first data at"
            f" {series.start.isoformat()}, and a forecast needs {need}; wait for more data"
            f" or use a smaller bucket",
            details={"needed_buckets": bucket.min_points, "buckets": have},
        )
    return series


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", details=[{"field": field, "message": message}])


__all__ = [
    "BUCKETS",
    "MAX_HORIZON",
    "MAX_STEPS",
    "MIN_HORIZON",
    "BucketPolicy",
    "Fill",
    "InsufficientHistoryError",
    "RegularSeries",
    "check_enough",
    "describe",
    "floor_time",
    "history_span",
    "parse_duration",
    "parse_horizon",
    "policy",
    "regularise",
]
