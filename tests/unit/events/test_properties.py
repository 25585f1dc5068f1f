"""Property tests: no input makes the decoder raise anything but DecodeError."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_hub.errors import DecodeError
from analytics_hub.events import DecodedBatch, Normalizer

from .builders import RATES, RECEIVED, TENANT, VARIANTS, event

NORMALIZER = Normalizer(currency_rates=RATES)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["", "USD", "eur", "llm_call", "2025-03-03T11:00:00Z", "tenant_id"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def consistent(batch: DecodedBatch) -> None:
    indices = [e.index for e in batch.errors]
    assert indices == sorted(indices)
    assert set(batch.rejected_raw) == set(indices)
    assert batch.total == batch.accepted + len(set(indices))


def attempt(text: bytes, *, lines: bool = False) -> None:
    decode = NORMALIZER.decode_ndjson if lines else NORMALIZER.decode_json
    try:
        batch = decode(text, tenant_id=TENANT, received_at=RECEIVED)
    except DecodeError:
        return
    consistent(batch)


@SETTINGS
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_decode_error(data: bytes) -> None:
    attempt(data)
    attempt(data, lines=True)


@SETTINGS
@given(json_values)
def test_arbitrary_json_raises_only_decode_error(value: Any) -> None:
    text = msgspec.json.encode(value)
    attempt(text)
    attempt(b"[" + text + b"]")
    attempt(text, lines=True)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths(item, (*prefix, i))
    return found


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    evt = event(draw(st.sampled_from(sorted(VARIANTS))))
    path = draw(st.sampled_from(paths(evt)))
    target: Any = evt
    for step in path[:-1]:
        target = target[step]
    if draw(st.booleans()) and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = draw(json_values)
    return evt


@SETTINGS
@given(st.lists(mutated_events(), min_size=1, max_size=5))
def test_mutated_events_are_accepted_or_rejected_one_by_one(events: list[dict[str, Any]]) -> None:
    good = event()
    batch = NORMALIZER.decode_json(
        msgspec.json.encode([good, *copy.deepcopy(events)]),
        tenant_id=TENANT,
        received_at=RECEIVED,
    )
    consistent(batch)
    assert 0 not in batch.rejected_raw  # the valid event survives its neighbours
    for e in batch.errors:
        assert e.message
    lines = b"\n".join(msgspec.json.encode(e) for e in [good, *events])
    consistent(NORMALIZER.decode_ndjson(lines, tenant_id=TENANT, received_at=RECEIVED))


@SETTINGS
@given(
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
    st.floats(min_value=0, max_value=1e7, allow_nan=False),
    st.one_of(st.none(), st.floats(min_value=0, max_value=1e3, allow_nan=False)),
)
def test_llm_call_numbers_are_stored_as_sent(
    input_tokens: int, output_tokens: int, latency: float, cost: float | None
) -> None:
    data = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "latency_ms": latency,
        "cost_usd": cost,
    }
    batch = NORMALIZER.decode_json(
        msgspec.json.encode([event(data=data)]), tenant_id=TENANT, received_at=RECEIVED
    )
    (row,) = batch.table.to_pylist()
    assert row["input_tokens"] == input_tokens
    assert row["total_tokens"] == input_tokens + output_tokens
    assert row["latency_ms"] == latency
    assert row["cost_usd"] == cost
    assert row["cost_source"] == (None if cost is None else "provided")
