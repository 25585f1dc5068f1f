"""Timestamps: offsets, epoch units, naive times, the future clamp and the age limit."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics_hub.events import Normalizer
from analytics_hub.events.timestamps import (
    MAX_MICROS,
    each_to_micros,
    epoch_unit,
    to_micros,
    to_micros_batch,
)

from .builders import RECEIVED, TENANT, body, decode, event, only_error, only_row

INSTANT = dt.datetime(2025, 3, 3, 11, 30, 15, 250000, tzinfo=dt.UTC)
EPOCH_S = INSTANT.timestamp()  # 1741001415.25


def naive(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=None)


@pytest.mark.parametrize(
    "sent",
    [
        "2025-03-03T11:30:15.25Z",
        "2025-03-03T11:30:15.250000+00:00",
        "2025-03-03T13:30:15.25+02:00",
        "2025-03-03T06:00:15.25-05:30",
        "2025-03-03T11:30:15.250000000Z",
        "2025-03-03 11:30:15.25Z",
    ],
)
def test_rfc3339_with_any_offset_is_normalised_to_utc(normalizer: Normalizer, sent: str) -> None:
    row = only_row(decode(normalizer, event(timestamp=sent)))
    assert row["ts"] == row["claimed_ts"] == naive(INSTANT)
    assert row["skew_ms"] is None
    assert row["received_at"] == naive(RECEIVED)


@pytest.mark.parametrize(
    ("sent", "unit"),
    [
        (int(EPOCH_S), "s"),
        (EPOCH_S, "s"),
        (int(EPOCH_S * 1e3), "ms"),
        (EPOCH_S * 1e3, "ms"),
        (int(EPOCH_S * 1e6), "us"),
        (int(EPOCH_S * 1e9), "ns"),
        (1_741_001_415_250_000_400, "ns"),
    ],
)
def test_epoch_numbers_of_every_unit(normalizer: Normalizer, sent: float, unit: str) -> None:
    assert epoch_unit(sent) == unit
    row = only_row(decode(normalizer, event(timestamp=sent)))
    whole_seconds = unit == "s" and isinstance(sent, int)
    expected = INSTANT.replace(microsecond=0) if whole_seconds else INSTANT
    assert row["claimed_ts"] == naive(expected)


def test_epoch_unit_thresholds() -> None:
    assert epoch_unit(99_999_999_999) == "s"
    assert epoch_unit(100_000_000_000) == "ms"
    assert epoch_unit(99_999_999_999_999) == "ms"
    assert epoch_unit(100_000_000_000_000) == "us"
    assert epoch_unit(99_999_999_999_999_999) == "us"
    assert epoch_unit(100_000_000_000_000_000) == "ns"


def test_a_batch_mixing_text_and_epochs(normalizer: Normalizer) -> None:
    batch = decode(
        normalizer,
        event(timestamp="2025-03-03T11:30:15.25Z"),
        event(timestamp=int(EPOCH_S * 1e3)),
        event(timestamp=EPOCH_S),
    )
    assert batch.table.column("claimed_ts").to_pylist() == [naive(INSTANT)] * 3


def test_a_time_without_offset_is_rejected(normalizer: Normalizer) -> None:
    field, message = only_error(decode(normalizer, event(timestamp="2025-03-03T11:30:15")))
    assert field == "timestamp"
    assert "no UTC offset" in message


@pytest.mark.parametrize("sent", ["yesterday", "2025-02-30T00:00:00Z", "", True, None, [1]])
def test_a_malformed_timestamp_is_rejected(normalizer: Normalizer, sent: object) -> None:
    field, message = only_error(decode(normalizer, event(timestamp=sent)))
    assert field == "timestamp"
    assert "timestamp" in message


def test_a_missing_timestamp_is_rejected(normalizer: Normalizer) -> None:
    assert only_error(decode(normalizer, event(timestamp=...))) == (
        "timestamp",
        "required field is missing",
    )


def test_an_event_far_in_the_future_is_clamped_to_its_receipt(normalizer: Normalizer) -> None:
    claimed = RECEIVED + dt.timedelta(minutes=10)
    row = only_row(decode(normalizer, event(timestamp=claimed.isoformat())))
    assert row["ts"] == naive(RECEIVED)
    assert row["claimed_ts"] == naive(claimed)
    assert row["skew_ms"] == 600_000.0


def test_an_event_within_the_skew_is_kept_as_sent(normalizer: Normalizer) -> None:
    claimed = RECEIVED + dt.timedelta(minutes=5)
    row = only_row(decode(normalizer, event(timestamp=claimed.isoformat())))
    assert row["ts"] == row["claimed_ts"] == naive(claimed)
    assert row["skew_ms"] is None


def test_the_skew_is_configurable() -> None:
    strict = Normalizer(currency_rates={}, max_future_skew_seconds=0)
    claimed = RECEIVED + dt.timedelta(milliseconds=1)
    batch = strict.decode_json(
        body(event(), event(timestamp=claimed.isoformat())), tenant_id=TENANT, received_at=RECEIVED
    )
    assert batch.table.column("skew_ms").to_pylist() == [None, 1.0]
    assert batch.table.column("ts").to_pylist()[1] == naive(RECEIVED)


def test_an_event_older_than_the_retention_is_rejected(normalizer: Normalizer) -> None:
    old = RECEIVED - dt.timedelta(days=30, seconds=1)
    field, message = only_error(decode(normalizer, event(timestamp=old.isoformat())))
    assert field == "timestamp"
    assert "older than the raw retention (30 days" in message


def test_an_event_just_inside_the_retention_is_kept(normalizer: Normalizer) -> None:
    old = RECEIVED - dt.timedelta(days=30)
    assert only_row(decode(normalizer, event(timestamp=old.isoformat())))["ts"] == naive(old)


def test_the_age_limit_is_configurable() -> None:
    short = Normalizer(currency_rates={}, max_age_seconds=3600)
    old = RECEIVED - dt.timedelta(hours=2)
    batch = short.decode_json(
        body(event(timestamp=old.isoformat()), event()), tenant_id=TENANT, received_at=RECEIVED
    )
    assert [(e.index, e.field) for e in batch.errors] == [(0, "timestamp")]
    assert "0.0416667 days" in batch.errors[0].message


def test_epochs_beyond_the_representable_range_are_rejected(normalizer: Normalizer) -> None:
    field, message = only_error(decode(normalizer, event(timestamp=1e30)))
    assert field == "timestamp"
    assert "outside the years" in message


def test_to_micros_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        to_micros(dt.datetime(2025, 1, 1))
    assert to_micros(dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.UTC)) == 1_000_000


def test_received_at_must_be_aware(normalizer: Normalizer) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        normalizer.decode_json(body(event()), tenant_id=TENANT, received_at=naive(RECEIVED))


# Around every unit boundary and the end of year 9999, plus anything an int64 holds.
_EDGES = [10**11, 10**14, 10**17, MAX_MICROS * 1_000]
_epochs = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64),
    *(st.integers(min_value=edge - 1_000, max_value=edge + 1_000) for edge in _EDGES),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_epochs, min_size=1, max_size=8))
def test_a_batch_of_integer_epochs_is_what_each_one_alone_gives(values: list[int]) -> None:
    assert to_micros_batch(values) == each_to_micros(values)


@pytest.mark.parametrize(
    "values",
    [
        [1_741_001_415_250_000_400, 1_741_001_415_250_000_499, 1_741_001_415_250_000_500],
        [1_741_001_415, 1_741_001_416],
        [1_741_001_415_250, 99_999_999_999_999],
        [100_000_000_000_000, 1_741_001_415_250_000],
        [(MAX_MICROS + 1) * 1_000, 10**17],
        [10**11 - 1, 10**11],
    ],
)
def test_integer_epochs_of_one_unit_and_of_several(values: list[int]) -> None:
    assert to_micros_batch(values) == each_to_micros(values)
