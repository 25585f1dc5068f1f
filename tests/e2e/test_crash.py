"""SIGKILL during sustained ingest loses nothing acknowledged and counts nothing twice."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tests.e2e.harness import Hub
from tests.unit.ingest.otlp.builders import span, traces

from analytics_hub.testing.envelopes import llm_call


def test_kill_during_ingest_keeps_every_acknowledged_event_exactly_once(fresh_hub: Hub) -> None:
    asset = f"crash-{uuid.uuid4().hex[:8]}"
    acked: list[str] = []
    sent_unacked: list[list[str]] = []
    stop = threading.Event()

    def sender(worker: int) -> None:
        with httpx.Client(
            base_url=fresh_hub.url,
            timeout=10.0,
            headers={"Authorization": f"Bearer {fresh_hub.keys['acme:ingest']}"},
        ) as c:
            while not stop.is_set():
                batch = [llm_call(asset_id=asset) for _ in range(200)]
                ids = [e["event_id"] for e in batch]
                try:
                    r = c.post("/api/v1/events", json=batch)
                except httpx.HTTPError:
                    sent_unacked.append(ids)
                    return
                if r.status_code == 202:
                    assert r.json()["accepted"] == 200
                    acked.extend(ids)
                else:
                    sent_unacked.append(ids)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    time.sleep(3.0)
    fresh_hub.proc.kill()
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acked) >= 1000, "the senders should have been acknowledged before the kill"

    fresh_hub.proc.start()
    now = datetime.now(UTC)
    query = {
        "time_range": {
            "from": (now - timedelta(hours=1)).isoformat(),
            "to": (now + timedelta(minutes=1)).isoformat(),
        },
        "filters": [{"field": "asset_id", "op": "eq", "value": asset}],
        "group_by": ["event_id"],
        "aggregates": [{"fn": "count", "as": "n"}],
        "limit": 10000,
    }
    stored: dict[str, int] = {}
    cursor = None
    with fresh_hub.client("acme", "read") as c:
        while True:
            r = c.post("/api/v1/query", json={**query, "cursor": cursor})
            assert r.status_code == 200, r.text
            stored.update({row["event_id"]: row["n"] for row in r.json()["rows"]})
            cursor = r.json()["next_cursor"]
            if not cursor:
                break
    missing = [i for i in acked if i not in stored]
    assert not missing, f"{len(missing)} acknowledged events were lost"
    assert all(n == 1 for n in stored.values()), "an event was stored twice"
    # what was stored is what was sent: acknowledged, or in flight at the kill
    in_flight = {i for ids in sent_unacked for i in ids}
    assert set(stored) <= set(acked) | in_flight


def _descendants(pid: int) -> list[int]:
    found, i = [pid], 0
    while i < len(found):
        for children in Path(f"/proc/{found[i]}/task").glob("*/children"):
            try:
                found.extend(int(c) for c in children.read_text().split())
            except OSError:
                continue
        i += 1
    return found[1:]


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _posted_spans(hub: Hub) -> None:
    body = traces(
        span({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}, span_id=1)
    ).SerializeToString()
    r = httpx.post(
        f"{hub.url}/v1/traces",
        content=body,
        headers={
            "Authorization": f"Bearer {hub.keys['acme:ingest']}",
            "Content-Type": "application/x-protobuf",
        },
        timeout=30.0,
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("end", ["kill", "stop"])
def test_no_otlp_preparing_process_outlives_the_hub(fresh_hub: Hub, end: str) -> None:
    _posted_spans(fresh_hub)  # the first OTLP request starts the preparing processes
    assert fresh_hub.proc.proc is not None
    helpers = _descendants(fresh_hub.proc.proc.pid)
    assert helpers, "a preparing process (and its fork server) should run beside the hub"
    if end == "kill":
        fresh_hub.proc.kill()
    else:
        fresh_hub.proc.stop()
    deadline = time.monotonic() + 10.0
    while any(_running(p) for p in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in helpers if _running(p)]
