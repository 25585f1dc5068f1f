"""Dead letters: written, listed newest first and paged, fetched, marked replayed;
always within one tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics_hub.store.base import DeadLetter, EventStore

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def _letter(tenant: str, n: int, *, at: datetime | None = None) -> DeadLetter:
    return DeadLetter(
        tenant_id=tenant,
        id=f"dl-{n:04d}",
        received_at=at or T0 + timedelta(seconds=n),
        index=n % 7,
        errors=[{"field": "payload.data.latency_ms", "message": f"must be >= 0 ({n})"}],
        raw=f'{{"n": {n}, "text": "caf\u00e9 \\u0000"}}',
    )


def test_lifecycle_of_dead_letters(store: EventStore) -> None:
    letters = [_letter("t1", n) for n in range(25)]
    store.write_dead_letters(letters)
    store.write_dead_letters([_letter("t2", n) for n in range(5)])

    # Listed newest first, paged by id.
    first = store.list_dead_letters("t1", limit=10)
    assert [r.id for r in first] == [f"dl-{n:04d}" for n in range(24, 14, -1)]
    second = store.list_dead_letters("t1", limit=10, before=first[-1].id)
    assert [r.id for r in second] == [f"dl-{n:04d}" for n in range(14, 4, -1)]
    last = store.list_dead_letters("t1", limit=10, before=second[-1].id)
    assert [r.id for r in last] == [f"dl-{n:04d}" for n in range(4, -1, -1)]
    assert store.list_dead_letters("t1", limit=10, before=last[-1].id) == []

    # Stored as given, pending.
    record = store.get_dead_letters("t1", ["dl-0003"])[0]
    given = letters[3]
    assert (record.tenant_id, record.id, record.index, record.errors, record.raw) == (
        given.tenant_id,
        given.id,
        given.index,
        given.errors,
        given.raw,
    )
    assert record.received_at == given.received_at
    assert (record.status, record.replayed_at) == ("pending", None)

    # Replayed: counted once, filtered by status.
    assert store.mark_dead_letters_replayed("t1", ["dl-0003", "dl-0004", "nope"]) == 2
    assert store.mark_dead_letters_replayed("t1", ["dl-0003"]) == 0
    replayed = store.list_dead_letters("t1", limit=100, status="replayed")
    assert [r.id for r in replayed] == ["dl-0004", "dl-0003"]
    assert all(r.replayed_at is not None and r.replayed_at.tzinfo for r in replayed)
    pending = store.list_dead_letters("t1", limit=100, status="pending")
    assert len(pending) == 23
    assert "dl-0003" not in {r.id for r in pending}


def test_tenants_never_see_each_others_dead_letters(store: EventStore) -> None:
    store.write_dead_letters([_letter("t1", 1), _letter("t2", 2)])
    assert [r.id for r in store.list_dead_letters("t2", limit=10)] == ["dl-0002"]
    assert store.get_dead_letters("t2", ["dl-0001"]) == []
    assert store.list_dead_letters("t2", limit=10, before="dl-0001") == []
    assert store.mark_dead_letters_replayed("t2", ["dl-0001"]) == 0
    assert store.get_dead_letters("t1", ["dl-0001"])[0].status == "pending"


def test_the_same_id_in_two_tenants_is_two_dead_letters(store: EventStore) -> None:
    store.write_dead_letters([_letter("t1", 1), _letter("t2", 1)])
    assert store.mark_dead_letters_replayed("t1", ["dl-0001"]) == 1
    assert store.get_dead_letters("t2", ["dl-0001"])[0].status == "pending"


def test_writing_a_dead_letter_again_changes_nothing(store: EventStore) -> None:
    store.write_dead_letters([_letter("t1", 1), _letter("t1", 1)])
    store.mark_dead_letters_replayed("t1", ["dl-0001"])
    store.write_dead_letters([_letter("t1", 1)])
    records = store.list_dead_letters("t1", limit=10)
    assert [(r.id, r.status) for r in records] == [("dl-0001", "replayed")]


def test_letters_received_together_page_by_id(store: EventStore) -> None:
    same = T0 + timedelta(minutes=5)
    store.write_dead_letters([_letter("t1", n, at=same) for n in range(6)])
    page = store.list_dead_letters("t1", limit=4)
    rest = store.list_dead_letters("t1", limit=4, before=page[-1].id)
    assert [r.id for r in page + rest] == [f"dl-{n:04d}" for n in range(5, -1, -1)]


def test_many_dead_letters_in_one_write(store: EventStore) -> None:
    store.write_dead_letters([_letter("t1", n) for n in range(5_000)])
    assert len(store.list_dead_letters("t1", limit=10_000)) == 5_000


def test_an_unknown_status_is_refused(store: EventStore) -> None:
    with pytest.raises(ValueError, match="status"):
        store.list_dead_letters("t1", limit=10, status="lost")
