"""Sending tagged traffic to an ingest process and counting what the store holds."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from analytics_hub.testing.envelopes import llm_call
from analytics_hub.testing.hubprocess import HubProcess


@dataclass
class Senders:
    """Threads posting batches of one asset's events until stopped; what was acknowledged."""

    node: HubProcess
    key: str
    asset: str
    threads: int = 3
    batch: int = 200
    acked: list[str] = field(default_factory=list)
    unacked: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Senders:
        self._workers = [threading.Thread(target=self._send) for _ in range(self.threads)]
        for t in self._workers:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._workers:
            t.join(30)

    def _send(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.node.url, timeout=10.0, headers=headers) as c:
            while not self._stop.is_set():
                batch = [llm_call(asset_id=self.asset) for _ in range(self.batch)]
                ids = [e["event_id"] for e in batch]
                try:
                    r = c.post("/api/v1/events", json=batch)
                except httpx.HTTPError:
                    self.unacked.extend(ids)
                    continue
                if r.status_code == 202 and r.json()["accepted"] == len(ids):
                    self.acked.extend(ids)
                else:
                    self.unacked.extend(ids)
                    time.sleep(0.2)  # 429 while a writer is away: back off as clients do


def _query(asset: str, **more: object) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "time_range": {
            "from": (now - timedelta(hours=1)).isoformat(),
            "to": (now + timedelta(minutes=10)).isoformat(),
        },
        "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
        **more,
    }


def stored_total(node: HubProcess, key: str, asset: str) -> int:
    """How many rows of ``asset`` the store holds (one cheap count, copies included)."""
    query = _query(asset, aggregates=[{"fn": "count", "as": "n"}])
    headers = {"Authorization": f"Bearer {key}"}
    r = httpx.post(f"{node.url}/api/v1/query", json=query, headers=headers, timeout=30.0)
    r.raise_for_status()
    rows = r.json()["rows"]
    return int(rows[0]["n"]) if rows else 0


def stored_counts(node: HubProcess, key: str, asset: str) -> dict[str, int]:
    """How many times each event of ``asset`` is stored, read through an api process."""
    query = _query(
        asset, group_by=["event_id"], aggregates=[{"fn": "count", "as": "n"}], limit=10000
    )
    stored: dict[str, int] = {}
    cursor = None
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=node.url, timeout=30.0, headers=headers) as c:
        while True:
            r = c.post("/api/v1/query", json={**query, "cursor": cursor})
            r.raise_for_status()
            stored.update({row["event_id"]: row["n"] for row in r.json()["rows"]})
            cursor = r.json()["next_cursor"]
            if not cursor:
                return stored


def wait_stored(
    node: HubProcess, key: str, asset: str, want: int, timeout: float
) -> dict[str, int]:
    """The stored counts once at least ``want`` events are there (or the time is up).

    It polls a single count and pages through every event only when the count is
    reached: paging tens of thousands of rows twice a second would load the machine the
    writers run on, and offset pages read while writes go on can skip rows.
    """
    deadline = time.monotonic() + timeout
    while True:
        if stored_total(node, key, asset) >= want or time.monotonic() > deadline:
            stored = stored_counts(node, key, asset)
            if len(stored) >= want or time.monotonic() > deadline:
                return stored
        time.sleep(0.5)
