"""From stored buckets to a forecastable series: horizons, history windows, gap filling."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics_hub.analytics.forecast.history import (
    BUCKETS,
    MAX_STEPS,
    InsufficientHistoryError,
    check_enough,
    describe,
    floor_time,
    history_span,
    parse_duration,
    parse_horizon,
    policy,
    regularise,
)
from analytics_hub.errors import ValidationError

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "span"),
    [("90m", 90 * dt.timedelta(minutes=1)), ("48h", 48 * H), (" 30d ", 30 * D), ("2w", 14 * D)],
)
def test_durations(text: str, span: dt.timedelta) -> None:
    assert parse_duration(text, field="horizon") == span


@pytest.mark.parametrize("text", ["", "48", "h", "1.5d", "-2d", "3y", "P30D"])
def test_a_bad_duration_names_the_field_and_gives_examples(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_duration(text, field="history")
    assert err.value.message.startswith("history: ")
    assert "48h" in err.value.message
    assert err.value.details == [{"field": "history", "message": err.value.message[9:]}]


@pytest.mark.parametrize(
    ("value", "bucket", "steps"),
    [("48h", "1h", 48), (48, "1h", 48), ("30d", "1d", 30), (30, "1d", 30), ("1h", "1m", 60)],
)
def test_horizons_as_durations_or_buckets(value: str | int, bucket: str, steps: int) -> None:
    assert parse_horizon(value, BUCKETS[bucket]) == steps


@pytest.mark.parametrize(
    ("value", "bucket", "says"),
    [
        ("36h", "1d", "not a whole number of 1d buckets"),
        ("45d", "1d", "from 1 day to 30 days, got 45 days"),
        (31, "1d", "from 1 day to 30 days"),
        ("30m", "15m", "from 1 hour to 30 days, got 30 minutes"),
        (0, "1h", "at least one bucket"),
        ("30d", "1m", f"more than {MAX_STEPS}; use a larger bucket"),
    ],
)
def test_bad_horizons_say_what_to_change(value: str | int, bucket: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says) as err:
        parse_horizon(value, BUCKETS[bucket])
    assert err.value.message.startswith("horizon: ")


def test_unknown_buckets_list_the_choices() -> None:
    with pytest.raises(ValidationError, match="1m, 5m, 15m, 1h, 1d"):
        policy("2h")


def test_history_defaults_limits_and_the_query_bucket_cap() -> None:
    hourly = BUCKETS["1h"]
    assert history_span(hourly, None, max_buckets=10_000) == 28 * D
    assert history_span(hourly, 56 * D, max_buckets=10_000) == 56 * D
    assert history_span(BUCKETS["1d"], None, max_buckets=10_000) == 365 * D
    # Never a query the query layer would refuse for its bucket count.
    assert history_span(hourly, None, max_buckets=100) == 100 * H
    for bad in (H, 200 * D, 90 * dt.timedelta(minutes=1)):
        with pytest.raises(ValidationError, match="from 2 days to 13 weeks"):
            history_span(hourly, bad, max_buckets=10_000)


def test_describe_uses_the_largest_whole_unit() -> None:
    assert [describe(s) for s in (2 * D, 36 * H, 14 * D, dt.timedelta(minutes=5))] == [
        "2 days",
        "36 hours",
        "2 weeks",
        "5 minutes",
    ]


def test_buckets_are_floored_on_the_epoch_grid_in_utc() -> None:
    moment = dt.datetime(2025, 3, 1, 13, 45, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert floor_time(moment, H) == dt.datetime(2025, 3, 1, 11, tzinfo=dt.UTC)
    assert floor_time(moment, D) == dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def test_counts_and_sums_fill_gaps_with_zero_after_the_first_data() -> None:
    rows = [(T0 + 2 * H, 5.0), (T0 + 4 * H, 7.0), (T0 + 5 * H, None)]
    series = regularise(rows, start=T0, end=T0 + 7 * H, step=H, fill="zero")
    assert series is not None
    # Buckets 0 and 1 come before any data: dropped, not zeros.
    assert series.start == T0 + 2 * H
    assert series.values.tolist() == [5.0, 0.0, 7.0, 0.0, 0.0]
    assert (series.filled, series.fill, series.end) == (3, "zero", T0 + 7 * H)


def test_averages_and_percentiles_carry_the_last_value_forward() -> None:
    rows = [(T0, 100.0), (T0 + 3 * H, 130.0)]
    series = regularise(rows, start=T0, end=T0 + 5 * H, step=H, fill="carry")
    assert series is not None
    assert series.values.tolist() == [100.0, 100.0, 100.0, 130.0, 130.0]
    assert series.filled == 3


def test_no_data_at_all_is_none_and_off_grid_rows_are_a_bug() -> None:
    assert regularise([(T0, None)], start=T0, end=T0 + 3 * H, step=H, fill="zero") is None
    with pytest.raises(ValueError, match="not on the grid"):
        regularise([(T0 + 0.5 * H, 1.0)], start=T0, end=T0 + 3 * H, step=H, fill="zero")
    with pytest.raises(ValueError, match="not on the grid"):
        regularise([(T0 + 3 * H, 1.0)], start=T0, end=T0 + 3 * H, step=H, fill="zero")


def test_too_little_history_says_how_much_is_needed() -> None:
    hourly = BUCKETS["1h"]
    with pytest.raises(InsufficientHistoryError) as none:
        check_enough(None, hourly, searched_from=T0)
    assert none.value.status == 422
    assert none.value.code == "insufficient_history"
    assert "at least 48 1h buckets (2 days)" in none.value.message
    short = regularise(
        [(T0 + i * H, 1.0) for i in range(30)], start=T0, end=T0 + 30 * H, step=H, fill="zero"
    )
    with pytest.raises(InsufficientHistoryError) as few:
        check_enough(short, hourly, searched_from=T0)
    assert "30 1h buckets since the first data" in few.value.message
    assert few.value.details == {"needed_buckets": 48, "buckets": 30}
    enough = regularise(
        [(T0 + i * H, 1.0) for i in range(48)], start=T0, end=T0 + 48 * H, step=H, fill="zero"
    )
    assert check_enough(enough, hourly, searched_from=T0) is enough
    assert np.all(enough is not None and enough.values == 1.0)
