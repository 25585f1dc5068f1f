"""Role processes on PostgreSQL and NATS JetStream: each does its part, together the whole.

Every test starts real ``analytics-hub serve --role …`` subprocesses against the real
PostgreSQL and NATS servers, on a database and stream of its own.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from tests.e2e.distributed.traffic import Senders, stored_counts, wait_stored

from analytics_hub.testing.envelopes import llm_call
from analytics_hub.testing.layout import HubLayout, metric_value

pytestmark = pytest.mark.service


def _asset() -> str:
    return f"roles-{uuid.uuid4().hex[:8]}"


def test_ingest_writer_and_api_processes_make_one_hub(layout: HubLayout) -> None:
    writer = layout.add("writer")
    ingest = layout.add("ingest")
    api = layout.add("api")
    ingest_key, read_key = layout.key("acme", "ingest"), layout.key("acme", "read")
    asset = _asset()

    batch = [llm_call(asset_id=asset) for _ in range(300)]
    r = httpx.post(
        f"{ingest.url}/api/v1/events",
        json=batch,
        headers={"Authorization": f"Bearer {ingest_key}"},
    )
    assert r.status_code == 202, r.text
    stored = wait_stored(api, read_key, asset, 300, timeout=30)
    assert sorted(stored) == sorted(e["event_id"] for e in batch)
    assert metric_value(writer, "hub_store_events_inserted_total") == 300

    # Each process serves its part only.
    auth = {"Authorization": f"Bearer {read_key}"}
    for node, method, path, role in (
        (ingest, "POST", "/api/v1/query", "api"),
        (api, "POST", "/api/v1/events", "ingest"),
        (api, "POST", "/v1/traces", "ingest"),
        (writer, "GET", "/api/v1/dashboards", "api"),
    ):
        r = httpx.request(method, f"{node.url}{path}", json={}, headers=auth)
        assert r.status_code == 404, (path, r.text)
        assert f"the {role} role" in r.json()["error"]["message"]
    for node, roles in ((writer, "writer"), (ingest, "ingest"), (api, "api")):
        ready = httpx.get(f"{node.url}/readyz").json()
        assert ready["checks"]["roles"] == roles


def test_an_ingest_process_refuses_to_wait_for_visibility(layout: HubLayout) -> None:
    ingest = layout.add("ingest")
    key = layout.key("acme", "ingest")
    r = httpx.post(
        f"{ingest.url}/api/v1/events?wait=visible",
        json=[llm_call(asset_id=_asset())],
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 400
    assert "writer role" in r.json()["error"]["message"]


def test_a_killed_writer_loses_nothing_and_stores_nothing_twice(layout: HubLayout) -> None:
    writer = layout.add("writer")
    ingest = layout.add("ingest")
    api = layout.add("api")
    asset = _asset()
    senders = Senders(ingest, layout.key("acme", "ingest"), asset).start()
    try:
        time.sleep(3.0)
        writer.kill()  # SIGKILL mid-commit: what it fetched is neither acked nor lost
        time.sleep(2.0)  # ingest goes on: JetStream holds the events
        writer.start()
        time.sleep(2.0)
    finally:
        senders.stop()
    assert len(senders.acked) >= 2000, "the ingest process should have acknowledged events"

    read_key = layout.key("acme", "read")
    # After the ack wait (5 s here) JetStream delivers what the dead writer held again.
    stored = wait_stored(api, read_key, asset, len(senders.acked), timeout=60)
    missing = set(senders.acked) - set(stored)
    assert not missing, f"{len(missing)} acknowledged events were lost"
    twice = [i for i, n in stored.items() if n != 1]
    assert not twice, f"{len(twice)} events stored more than once"
    assert set(stored) <= set(senders.acked) | set(senders.unacked)


def test_writers_form_a_group_that_shares_the_work(layout: HubLayout) -> None:
    writers = [layout.add("writer"), layout.add("writer")]
    ingest = layout.add("ingest")
    api = layout.add("api")
    asset = _asset()
    senders = Senders(ingest, layout.key("acme", "ingest"), asset).start()
    try:
        time.sleep(6.0)
    finally:
        senders.stop()
    stored = wait_stored(api, layout.key("acme", "read"), asset, len(senders.acked), timeout=30)
    assert set(senders.acked) <= set(stored)
    shares = [metric_value(w, "hub_store_events_inserted_total") for w in writers]
    assert sum(shares) == len(stored)
    assert all(share > 0 for share in shares), f"one writer did all the work: {shares}"


def test_the_api_role_answers_while_no_writer_runs(layout: HubLayout) -> None:
    api = layout.add("api")
    counts = stored_counts(api, layout.key("acme", "read"), _asset())
    assert counts == {}
    assert httpx.get(f"{api.url}/readyz").status_code == 200
