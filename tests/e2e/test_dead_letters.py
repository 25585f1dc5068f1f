"""Dead letters end to end: rejected events are kept, listed, and replayed after a fix.

The fix here is a configuration change: events in currency ``XYZ`` are rejected until the
hub is restarted with a rate for it, and a replay then stores them converted to USD.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics_hub.testing.envelopes import llm_call
from analytics_hub.testing.hubprocess import HubProcess, create_key

XYZ_RATES = json.dumps({"USD": 1.0, "XYZ": 0.5})


def token_cost(currency: str, total: float, request_id: str) -> dict[str, Any]:
    """A CostOps token_cost event in ``currency``."""
    return {
        "event_id": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(),
        "source_module": "llm-cost-ops",
        "event_type": "cost",
        "severity": "info",
        "asset_id": "billing",
        "payload": {
            "payload_type": "cost",
            "data": {
                "cost_type": "token_cost",
                "model_id": "gpt-4o",
                "request_id": request_id,
                "prompt_tokens": 1000,
                "completion_tokens": 100,
                "total_tokens": 1100,
                "cost_per_prompt_token": 0.00001,
                "cost_per_completion_token": 0.00004,
                "total_cost_usd": total,
                "currency": currency,
            },
        },
    }


class Api:
    """Calls to one hub with the keys of two tenants."""

    def __init__(self, proc: HubProcess, keys: dict[str, str]) -> None:
        self.proc = proc
        self.keys = keys

    def call(self, tenant: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.proc.url}{path}",
            headers={"Authorization": f"Bearer {self.keys[tenant]}"},
            timeout=30,
            **kwargs,
        )

    def post_events(self, tenant: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        r = self.call(tenant, "POST", "/api/v1/events", json=events, params={"wait": "visible"})
        assert r.status_code == 202, r.text
        body: dict[str, Any] = r.json()
        return body

    def letters(self, tenant: str, **params: Any) -> list[dict[str, Any]]:
        r = self.call(tenant, "GET", "/api/v1/dead-letters", params=params)
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    def replay(self, tenant: str, ids: list[str]) -> httpx.Response:
        return self.call(tenant, "POST", "/api/v1/dead-letters/replay", json={"ids": ids})

    def cost_by_request(self, tenant: str) -> dict[str, tuple[int, float]]:
        now = datetime.now(UTC)
        r = self.call(
            tenant,
            "POST",
            "/api/v1/query",
            json={
                "time_range": {
                    "from": (now - timedelta(hours=1)).isoformat(),
                    "to": (now + timedelta(minutes=5)).isoformat(),
                },
                "filters": [{"field": "payload_subtype", "op": "eq", "value": "token_cost"}],
                "group_by": ["request_id"],
                "aggregates": [
                    {"fn": "count", "as": "n"},
                    {"fn": "sum", "field": "cost_usd", "as": "cost"},
                ],
            },
        )
        assert r.status_code == 200, r.text
        return {row["request_id"]: (row["n"], row["cost"]) for row in r.json()["rows"]}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    data_dir = tmp_path / "hub"
    keys = {tenant: create_key(data_dir, tenant, "admin") for tenant in ("acme", "globex")}
    proc = HubProcess(data_dir=data_dir)
    try:
        proc.start()
        yield Api(proc, keys)
    finally:
        proc.stop()


def raw_of(letter: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(letter["raw"])
    return raw


def test_dead_letters_are_listed_and_replayed_after_a_configuration_fix(api: Api) -> None:
    # two batches from acme, then one from globex: four acme letters, one globex letter
    xyz_1 = token_cost("XYZ", 0.02, "req-xyz-1")
    negative = llm_call(asset_id="billing", input_tokens=-5)
    abc = token_cost("ABC", 0.03, "req-abc")
    first = api.post_events("acme", [llm_call(asset_id="billing"), xyz_1, negative, abc])
    assert (first["accepted"], first["rejected"]) == (1, 3)
    assert {(e["index"], e["field"]) for e in first["errors"]} == {
        (1, "payload.data.currency"),
        (2, "payload.data.input_tokens"),
        (3, "payload.data.currency"),
    }
    xyz_2 = token_cost("XYZ", 0.04, "req-xyz-2")
    assert api.post_events("acme", [xyz_2])["rejected"] == 1
    foreign = token_cost("XYZ", 0.06, "req-globex")
    assert api.post_events("globex", [foreign])["rejected"] == 1

    # newest first, each with its errors and the event as it was sent
    letters = api.letters("acme")
    assert len(letters) == 4
    assert raw_of(letters[0])["event_id"] == xyz_2["event_id"]
    assert {raw_of(d)["event_id"] for d in letters[1:]} == {
        xyz_1["event_id"],
        negative["event_id"],
        abc["event_id"],
    }
    received = [datetime.fromisoformat(d["received_at"]) for d in letters]
    assert received == sorted(received, reverse=True)
    assert all(d["status"] == "pending" and d["replayed_at"] is None for d in letters)
    by_event = {raw_of(d)["event_id"]: d for d in letters}
    (xyz_error,) = by_event[xyz_1["event_id"]]["errors"]
    assert xyz_error["field"] == "payload.data.currency"
    assert "'XYZ'" in xyz_error["message"]
    assert by_event[xyz_1["event_id"]]["index"] == 1
    assert raw_of(by_event[negative["event_id"]])["payload"]["data"]["input_tokens"] == -5

    # paging with `before` walks the same order without gaps or repeats
    pages: list[list[str]] = []
    before = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if before:
            params["before"] = before
        r = api.call("acme", "GET", "/api/v1/dead-letters", params=params)
        assert r.status_code == 200, r.text
        pages.append([d["id"] for d in r.json()["items"]])
        before = r.json()["next_before"]
        if before is None:
            break
        assert len(pages) < 5
    assert pages == [[d["id"] for d in letters[:3]], [letters[3]["id"]]]
    assert api.letters("acme", limit=2, before=letters[1]["id"]) == letters[2:4]
    assert api.letters("acme", status="pending") == letters
    assert api.letters("acme", status="replayed") == []
    assert (
        api.call("acme", "GET", "/api/v1/dead-letters", params={"status": "x"}).status_code == 400
    )

    (globex_letter,) = api.letters("globex")
    assert raw_of(globex_letter)["event_id"] == foreign["event_id"]
    ids = {raw_of(d)["event_id"]: d["id"] for d in letters}

    # replaying before the fix changes nothing
    early = api.replay("acme", [ids[xyz_1["event_id"]]])
    assert early.status_code == 200, early.text
    assert early.json()["replayed"] == []
    assert early.json()["still_failing"][ids[xyz_1["event_id"]]][0]["field"] == (
        "payload.data.currency"
    )

    # the fix: a rate for XYZ (this replaces the default rates)
    api.proc.stop()
    api.proc.env = {"HUB_CURRENCY_RATES": XYZ_RATES}
    api.proc.start()
    assert api.cost_by_request("acme") == {}

    # another tenant's letter cannot be replayed, alone or among one's own
    alone = api.replay("acme", [globex_letter["id"]])
    assert alone.status_code == 404, alone.text
    asked = [
        ids[xyz_1["event_id"]],
        ids[negative["event_id"]],
        ids[abc["event_id"]],
        globex_letter["id"],
    ]
    r = api.replay("acme", asked)
    assert r.status_code == 200, r.text
    outcome = r.json()
    assert outcome["replayed"] == [ids[xyz_1["event_id"]]]
    failing = outcome["still_failing"]
    assert set(failing) == {ids[negative["event_id"]], ids[abc["event_id"]]}
    assert [e["field"] for e in failing[ids[negative["event_id"]]]] == ["payload.data.input_tokens"]
    # the new error is today's: ABC is still unknown, and XYZ is now among the known ones
    (abc_error,) = failing[ids[abc["event_id"]]]
    assert abc_error["field"] == "payload.data.currency"
    assert "'ABC'" in abc_error["message"]
    assert "XYZ" in abc_error["message"]

    # the replayed event is stored, converted at the new rate (x0.5)
    costs = api.cost_by_request("acme")
    assert costs == {"req-xyz-1": (1, pytest.approx(0.01))}
    stored = api.call("acme", "GET", f"/api/v1/events/{xyz_1['event_id']}")
    assert stored.status_code == 200, stored.text
    data = stored.json()["payload"]["data"]
    assert data["currency"] == "USD"
    assert data["total_cost_usd"] == pytest.approx(0.01)
    assert data["original"]["currency"] == "XYZ"

    replayed = api.letters("acme", status="replayed")
    assert [d["id"] for d in replayed] == [ids[xyz_1["event_id"]]]
    assert replayed[0]["replayed_at"] is not None
    assert {d["id"] for d in api.letters("acme", status="pending")} == {
        ids[negative["event_id"]],
        ids[abc["event_id"]],
        ids[xyz_2["event_id"]],
    }

    # the second XYZ letter, and the first again: only the pending one is replayed
    r = api.replay("acme", [ids[xyz_2["event_id"]], ids[xyz_1["event_id"]]])
    assert r.json() == {"replayed": [ids[xyz_2["event_id"]]], "still_failing": {}}
    again = api.replay("acme", [ids[xyz_1["event_id"]], ids[xyz_2["event_id"]]])
    assert again.status_code == 200, again.text
    assert again.json() == {"replayed": [], "still_failing": {}}
    assert api.cost_by_request("acme") == {
        "req-xyz-1": (1, pytest.approx(0.01)),
        "req-xyz-2": (1, pytest.approx(0.02)),
    }

    # globex's letter was never touched, and globex can replay it itself
    assert api.letters("globex") == [globex_letter]
    assert api.cost_by_request("globex") == {}
    r = api.replay("globex", [globex_letter["id"]])
    assert r.json() == {"replayed": [globex_letter["id"]], "still_failing": {}}
    assert api.cost_by_request("globex") == {"req-globex": (1, pytest.approx(0.03))}
    assert api.cost_by_request("acme").keys() == {"req-xyz-1", "req-xyz-2"}
