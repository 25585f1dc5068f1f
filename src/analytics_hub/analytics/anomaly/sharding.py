"""Which analytics worker scores a series: rendezvous (highest random weight) hashing.

Every member computes the same owner from the same member list, and when a member
joins or leaves only the series it gains or loses move (about 1/n of them), so the
others keep their detectors' baselines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from analytics_hub.analytics.anomaly.records import SeriesKey


def _weight(member: str, key: SeriesKey) -> bytes:
    text = "\x1f".join((member, key[0], key[1] or "", key[2] or ""))
    return hashlib.blake2b(text.encode(), digest_size=8).digest()


def owner_of(key: SeriesKey, members: Sequence[str]) -> str:
    """The member that scores ``key``."""
    if not members:
        raise ValueError("a group has at least one member")
    return max(members, key=lambda m: _weight(m, key))


def ownership(me: str, members: Callable[[], Sequence[str]]) -> Callable[[SeriesKey], bool]:
    """A predicate: does ``me`` own a series, given the group's current members."""

    def owns(key: SeriesKey) -> bool:
        group = members()
        return len(group) <= 1 or owner_of(key, group) == me

    return owns


__all__ = ["owner_of", "ownership"]
