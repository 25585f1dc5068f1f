"""The live feed over a real DuckDB store: commits handed over from another thread, the
minute metrics as the clock moves, and a feed that falls behind.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from analytics_hub.query import QueryService
from analytics_hub.query.live import LiveFeed, LiveFilter, LiveSpec, Subscription
from analytics_hub.query.live import feed as feed_module
from analytics_hub.store.duckdb import DuckDBStore
from analytics_hub.testing.rows import make_event_rows

MINUTE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(tmp_path / "events.duckdb")
    s.migrate()
    yield s
    s.close()


def calls(n: int, seed: int, start: datetime = MINUTE) -> pa.Table:
    return make_event_rows(n, start=start, tenant="acme", seed=seed, call_share=1.0)


def commit(store: DuckDBStore, feed: LiveFeed, table: pa.Table) -> None:
    """Store ``table`` and publish its new rows from another thread, as the writer does."""

    def write() -> None:
        feed.publish(store.write_events(table).new_rows)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()


async def take(sub: Subscription, timeout: float = 5.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads((await asyncio.wait_for(sub.get(), timeout)).text)
    return message


def test_minute_metrics_follow_commits_and_the_clock(store: DuckDBStore) -> None:
    now = [MINUTE + timedelta(seconds=30)]
    feed = LiveFeed(QueryService(store), metrics_interval=0.05, clock=lambda: now[0])
    store.write_events(calls(10, seed=1))  # before anyone subscribed

    async def scenario() -> list[dict[str, Any]]:
        sub = feed.open("acme", LiveSpec(LiveFilter(), events=False, metrics=True))
        seen = [await take(sub)]  # the figures so far
        await asyncio.to_thread(commit, store, feed, calls(5, seed=2))
        seen.append(await take(sub))  # changed by the commit
        # The last commit for 12:00, and the clock passes into 12:01: whichever the ticker
        # sees first, 12:00's last figures come once, then 12:01's.
        await asyncio.to_thread(commit, store, feed, calls(3, seed=3))
        now[0] = MINUTE + timedelta(minutes=1, seconds=2)
        seen += [await take(sub), await take(sub)]
        await asyncio.sleep(0.2)
        assert sub.queued_messages == 0  # nothing changed: nothing more is sent
        feed.close(sub)
        return seen

    seen = asyncio.run(scenario())
    assert [(m["minute"], m["requests"]) for m in seen] == [
        ("2025-03-01T12:00:00Z", 10),
        ("2025-03-01T12:00:00Z", 15),
        ("2025-03-01T12:00:00Z", 18),
        ("2025-03-01T12:01:00Z", 0),
    ]


def test_a_feed_far_behind_skips_commits_and_says_how_many_events(
    store: DuckDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_module, "MAX_PENDING_ROWS", 150)
    feed = LiveFeed(QueryService(store), queue_events=1000)

    async def scenario() -> tuple[int, int]:
        sub = feed.open("acme", LiveSpec(LiveFilter()))
        # Three commits of 100 before the loop gets to run: the second and third do not
        # fit in what may wait, and are skipped.
        for seed in (1, 2, 3):
            feed.publish(calls(100, seed=seed))
        await asyncio.sleep(0)
        sent = dropped = 0
        while sent + dropped < 300:
            message = await take(sub)
            if message["type"] == "events":
                sent += len(message["events"])
            else:
                dropped += message["count"]
        return sent, dropped

    assert asyncio.run(scenario()) == (100, 200)


def test_publishing_never_fails_the_writer(store: DuckDBStore) -> None:
    feed = LiveFeed(QueryService(store))
    feed.publish(None)
    feed.publish(calls(3, seed=1))  # no subscriber, no loop yet

    async def subscribe() -> None:
        feed.open("acme", LiveSpec(LiveFilter()))

    asyncio.run(subscribe())  # that loop is closed now
    feed.publish(calls(3, seed=2))


def test_opening_a_subscription_calls_the_open_hook_and_marks_the_feed_subscribed(
    store: DuckDBStore,
) -> None:
    opened: list[bool] = []
    feed = LiveFeed(QueryService(store), on_open=lambda: opened.append(feed.subscribed))
    assert not feed.subscribed

    async def scenario() -> None:
        sub = feed.open("acme", LiveSpec(LiveFilter(), events=True, metrics=False))
        assert feed.subscribed
        feed.close(sub)

    asyncio.run(scenario())
    assert opened == [True]  # called once the subscription counts
    assert not feed.subscribed


def test_a_failing_open_hook_does_not_refuse_the_subscription(store: DuckDBStore) -> None:
    def broken() -> None:
        raise RuntimeError("no bus")

    feed = LiveFeed(QueryService(store), on_open=broken)

    async def scenario() -> None:
        sub = feed.open("acme", LiveSpec(LiveFilter(), events=True, metrics=False))
        assert feed.subscriptions("acme") == [sub]
        feed.close(sub)

    asyncio.run(scenario())
