"""Rendezvous hashing of series onto analytics workers."""

from __future__ import annotations

from collections import Counter

import pytest

from analytics_hub.analytics.anomaly.sharding import owner_of, ownership

KEYS = [("t", f"asset-{i}", "gpt-4o") for i in range(3000)]


def test_every_member_agrees_and_the_load_is_even() -> None:
    members = ["w1", "w2", "w3"]
    owners = [owner_of(k, members) for k in KEYS]
    assert owners == [owner_of(k, list(reversed(members))) for k in KEYS]  # order-free
    counts = Counter(owners)
    assert set(counts) == set(members)
    assert all(800 < n < 1200 for n in counts.values()), counts


def test_a_joining_member_takes_only_its_share() -> None:
    before = {k: owner_of(k, ["w1", "w2", "w3"]) for k in KEYS}
    after = {k: owner_of(k, ["w1", "w2", "w3", "w4"]) for k in KEYS}
    moved = [k for k in KEYS if before[k] != after[k]]
    assert all(after[k] == "w4" for k in moved)  # nobody else's series move
    assert 600 < len(moved) < 900  # about a quarter


def test_a_group_of_one_owns_everything_and_empty_groups_are_refused() -> None:
    owns = ownership("solo", lambda: ["solo"])
    assert all(owns(k) for k in KEYS[:10])
    with pytest.raises(ValueError, match="at least one member"):
        owner_of(KEYS[0], [])
