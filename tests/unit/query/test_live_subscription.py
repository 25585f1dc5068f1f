"""One live connection's queue: bounded, gaps reported in order, metrics coalesced."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from analytics_hub.query.live import LiveFilter, LiveSpec, Subscription
from analytics_hub.query.live.subscription import MAX_ANOMALIES, MAX_METRICS, MAX_NOTICES


def drain(sub: Subscription) -> list[dict[str, Any]]:
    """Everything queued, decoded (without waiting for more)."""

    async def take() -> list[dict[str, Any]]:
        out = []
        while sub.queued_messages:
            out.append(json.loads((await sub.get()).text))
        return out

    return asyncio.run(take())


def chunk(*ids: int) -> tuple[str, int]:
    """An encoded ``events`` message holding events with these ids."""
    return json.dumps({"type": "events", "events": [{"id": i} for i in ids]}), len(ids)


def new(capacity: int = 5) -> Subscription:
    return Subscription("acme", LiveSpec(LiveFilter()), capacity=capacity)


def test_events_beyond_the_room_are_dropped_and_the_gap_is_reported_where_it_is() -> None:
    sub = new(capacity=5)
    sub.put_events([chunk(1, 2, 3)], dropped=0)
    assert sub.room == 2
    sub.put_events([chunk(4, 5)], dropped=7)  # the commit matched 9; 2 fitted
    assert (sub.room, sub.queued_events) == (0, 5)
    sub.put_events([], dropped=4)  # a full queue: a later commit's 4 are all dropped
    sub.put_events([chunk(6)], dropped=0)  # no room: dropped too
    assert drain(sub) == [
        {"type": "events", "events": [{"id": 1}, {"id": 2}, {"id": 3}]},
        {"type": "events", "events": [{"id": 4}, {"id": 5}]},
        {"type": "dropped", "count": 12},  # consecutive gaps are one notice
    ]
    assert sub.room == 5
    sub.put_events([chunk(7)], dropped=0)
    assert drain(sub) == [{"type": "events", "events": [{"id": 7}]}]


def test_a_queue_never_holds_more_than_its_capacity_however_much_is_offered() -> None:
    sub = new(capacity=10)
    for k in range(1000):
        sub.put_events([chunk(k, k + 1, k + 2)], dropped=5)
        assert sub.queued_events <= 10
    assert sub.queued_messages <= 10 + 1  # the events and one merged gap
    messages = drain(sub)
    sent = sum(len(m["events"]) for m in messages if m["type"] == "events")
    dropped = sum(m["count"] for m in messages if m["type"] == "dropped")
    assert (sent, sent + dropped) == (9, 8000)


def test_a_newer_figure_of_a_minute_replaces_the_one_not_yet_sent() -> None:
    sub = new()
    sub.put_metrics("12:00", {"type": "metrics", "minute": "12:00", "requests": 1})
    sub.put_events([chunk(1)], dropped=0)
    sub.put_metrics("12:00", {"type": "metrics", "minute": "12:00", "requests": 2})
    sub.put_metrics("12:01", {"type": "metrics", "minute": "12:01", "requests": 0})
    assert [(m["type"], m.get("requests")) for m in drain(sub)] == [
        ("metrics", 2),
        ("events", None),
        ("metrics", 0),
    ]


def test_waiting_metrics_are_bounded() -> None:
    sub = new()
    for minute in range(10):
        sub.put_metrics(str(minute), {"type": "metrics", "minute": str(minute)})
    assert [m["minute"] for m in drain(sub)] == [str(m) for m in range(10 - MAX_METRICS, 10)]


def test_notices_are_bounded() -> None:
    sub = new()
    accepted = [sub.put_notice('{"type": "pong"}') for _ in range(MAX_NOTICES + 5)]
    assert accepted.count(True) == MAX_NOTICES
    assert len(drain(sub)) == MAX_NOTICES


def test_a_new_subscription_discards_what_was_queued_for_the_old_one() -> None:
    sub = new(capacity=3)
    sub.put_events([chunk(1, 2, 3)], dropped=4)
    generation = sub.generation
    sub.change(LiveSpec(LiveFilter(), metrics=True), '{"type": "subscribed"}')
    assert sub.generation == generation + 1
    assert (sub.room, sub.spec.metrics, sub.metrics_primed) == (3, True, False)
    assert drain(sub) == [{"type": "subscribed"}]


def test_get_waits_for_the_next_message() -> None:
    sub = new()

    async def scenario() -> str:
        waiter = asyncio.create_task(sub.get())
        await asyncio.sleep(0.01)
        assert not waiter.done()
        sub.put_notice('{"type": "pong"}')
        return (await asyncio.wait_for(waiter, 1)).text

    assert asyncio.run(scenario()) == '{"type": "pong"}'


def test_a_subscription_made_at_once_still_gets_ready_first() -> None:
    # Browsers send auth and subscribe back to back: the queued ``ready`` must survive.
    sub = new(capacity=3)
    sub.put_notice('{"type": "ready"}')
    sub.put_events([chunk(1)], dropped=0)
    sub.change(LiveSpec(LiveFilter(), metrics=False), '{"type": "subscribed"}')
    assert drain(sub) == [{"type": "ready"}, {"type": "subscribed"}]


def test_anomalies_messages_are_bounded_oldest_first_out() -> None:
    sub = new()
    for n in range(MAX_ANOMALIES + 3):
        sub.put_anomalies(json.dumps({"type": "anomalies", "n": n}), 1)
    assert [m["n"] for m in drain(sub)] == list(range(3, MAX_ANOMALIES + 3))
