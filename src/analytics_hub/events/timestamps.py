"""Event times: parsing, unit inference, and the future/age rules.

A ``timestamp`` is either RFC 3339 text with a UTC offset (``Z`` or ``±hh:mm``; text
without one is rejected, since its zone is unknowable) or an epoch number whose unit is
inferred from its magnitude ``|v|``:

===================  ============  =====================================
``|v|`` below        unit          covers (positive values)
===================  ============  =====================================
``1e11``             seconds       up to year 5138
``1e14``             milliseconds  1973-03-03 to year 5138
``1e17``             microseconds  1973-03-03 to year 5138
otherwise            nanoseconds   from 1973-03-03
===================  ============  =====================================

The ranges only overlap before 1973, far outside any retention window. Everything is
normalised to integer microseconds since the Unix epoch, UTC (``timestamp[us]`` in
Arrow), rounding sub-microsecond digits to the nearest microsecond.

Rules relative to the receipt time ``received_at``:

- more than ``max_future_skew_seconds`` ahead: clamped. ``ts`` is the receipt time,
  ``claimed_ts`` the time sent, ``skew_ms`` = claimed - received in milliseconds;
- older than ``max_age_seconds`` (the raw retention): rejected;
- otherwise ``ts`` = ``claimed_ts`` and ``skew_ms`` is null.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_US = dt.timedelta(microseconds=1)
_SECONDS_BELOW = 1e11
_MILLIS_BELOW = 1e14
_MICROS_BELOW = 1e17
# Representable as timestamp[us] and as a Python datetime: 0001-01-01 .. 9999-12-31.
MIN_MICROS = (dt.datetime(1, 1, 1, tzinfo=dt.UTC) - EPOCH) // _ONE_US
MAX_MICROS = (dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC) - EPOCH) // _ONE_US


def epoch_unit(value: float) -> str:
    """The unit of an epoch number by magnitude: ``s``, ``ms``, ``us`` or ``ns``."""
    magnitude = abs(value)
    if magnitude < _SECONDS_BELOW:
        return "s"
    if magnitude < _MILLIS_BELOW:
        return "ms"
    if magnitude < _MICROS_BELOW:
        return "us"
    return "ns"


_PER_US = {"s": 1_000_000, "ms": 1_000, "us": 1}


def to_micros(value: dt.datetime | int | float) -> int:
    """Microseconds since the epoch, UTC, of a decoded ``timestamp`` value.

    Raises ``ValueError`` for a naive datetime or a time outside years 1..9999.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(naive_message())
        return (value - EPOCH) // _ONE_US
    unit = epoch_unit(value)
    if unit == "ns":
        # Rounded to the nearest microsecond, as msgspec rounds RFC 3339 nanoseconds.
        micros = (value + 500) // 1_000 if isinstance(value, int) else round(value / 1_000)
    elif isinstance(value, int):
        micros = value * _PER_US[unit]
    else:
        micros = round(value * _PER_US[unit])
    if not MIN_MICROS <= micros <= MAX_MICROS:
        raise ValueError(f"timestamp {value!r} is outside the years 1 to 9999")
    return micros


def to_micros_batch(
    values: Sequence[dt.datetime | int | float],
) -> tuple[list[int], dict[int, str]]:
    """:func:`to_micros` over a batch; returns the values and ``{position: error}``.

    The common batches (all RFC 3339 text, decoded by msgspec as aware datetimes; or all
    integer epochs of one unit) take one comprehension; anything else goes element by
    element.
    """
    kinds = set(map(type, values))
    if kinds == {dt.datetime}:
        # msgspec's ``tz=True`` already refused naive datetimes.
        aware = cast("Sequence[dt.datetime]", values)
        return [(v - EPOCH) // _ONE_US for v in aware], {}
    if kinds == {int}:
        same_unit = _integers_of_one_unit(cast("Sequence[int]", values))
        if same_unit is not None:
            return same_unit, {}
    return each_to_micros(values)


def each_to_micros(
    values: Sequence[dt.datetime | int | float],
) -> tuple[list[int], dict[int, str]]:
    """:func:`to_micros` of each value in turn (0 where it fails), and ``{position:
    error}``: what :func:`to_micros_batch` gives, without its shortcuts."""
    out: list[int] = []
    errors: dict[int, str] = {}
    for i, v in enumerate(values):
        try:
            out.append(to_micros(v))
        except ValueError as exc:
            errors[i] = str(exc)
            out.append(0)
    return out, errors


def _integers_of_one_unit(values: Sequence[int]) -> list[int] | None:
    """Microseconds of integer epochs that all fall in one unit's range (the batch of one
    client, OTLP's nanoseconds above all), in one comprehension; None otherwise.

    Exactly :func:`to_micros` of each value: every value of the range has that unit, and
    only the nanosecond range reaches the end of year 9999.
    """
    low, high = min(values), max(values)
    if low < 0:
        return None  # before 1970: element by element, as ever
    if low >= _MICROS_BELOW:
        if (high + 500) // 1_000 > MAX_MICROS:
            return None
        return [(v + 500) // 1_000 for v in values]
    if high < _SECONDS_BELOW:
        return [v * 1_000_000 for v in values]
    if low >= _SECONDS_BELOW and high < _MILLIS_BELOW:
        return [v * 1_000 for v in values]
    if low >= _MILLIS_BELOW and high < _MICROS_BELOW:
        return list(values)
    return None


def from_micros(micros: int) -> dt.datetime:
    """The aware UTC datetime of ``micros``."""
    return EPOCH + dt.timedelta(microseconds=micros)


def iso(micros: int) -> str:
    """RFC 3339 text of ``micros`` for messages."""
    return from_micros(micros).isoformat().replace("+00:00", "Z")


def naive_message() -> str:
    """The message for a timestamp without a UTC offset."""
    return (
        "timestamp has no UTC offset; send RFC 3339 with 'Z' or an offset "
        "(2025-01-31T12:00:00Z, 2025-01-31T13:00:00+01:00) or an epoch number"
    )


def received_micros(received_at: dt.datetime) -> int:
    """Microseconds of the receipt time; it must be timezone-aware."""
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware (UTC)")
    return (received_at - EPOCH) // _ONE_US


__all__ = [
    "EPOCH",
    "MAX_MICROS",
    "MIN_MICROS",
    "each_to_micros",
    "epoch_unit",
    "from_micros",
    "iso",
    "naive_message",
    "received_micros",
    "to_micros",
    "to_micros_batch",
]
