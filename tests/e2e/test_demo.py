"""``analytics-hub demo`` as a user runs it: start, find events with the printed key, stop,
and start again on the same data directory (no second backfill, the same key)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from analytics_hub.testing.hubprocess import free_port

T = TypeVar("T")

BANNER_KEY = re.compile(r"API key for tenant 'acme' \(admin\): (hub_\S+)")
BANNER_URL = re.compile(r"LLM Analytics Hub \(demo\) listening on (http://\S+)")


@dataclass
class Demo:
    proc: subprocess.Popen[bytes]
    stderr_path: Path

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def wait_for(what: str, probe: Callable[[], T | None], demo: Demo, timeout: float = 30.0) -> T:
    """Poll ``probe`` until it returns something, the demo exits, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if demo.proc.poll() is not None:
            pytest.fail(f"the demo exited ({demo.proc.returncode}) before {what}:\n{demo.stderr}")
        value = probe()
        if value is not None:
            return value
        time.sleep(0.2)
    pytest.fail(f"no {what} after {timeout} s:\n{demo.stderr[-4000:]}")


@pytest.fixture
def run_demo(tmp_path: Path) -> Iterator[Callable[[Path, int], Demo]]:
    """Start ``analytics-hub demo`` subprocesses; any still running is killed by its handle."""
    started: list[Demo] = []

    def start(data_dir: Path, port: int) -> Demo:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        # gRPC off: the default port 4317 may be taken by another hub on this machine
        env.update({"HUB_LOG_FORMAT": "json", "NO_COLOR": "1", "HUB_OTLP_GRPC_PORT": "0"})
        cmd = [
            sys.executable, "-m", "analytics_hub.cli", "demo",
            "--data-dir", str(data_dir), "--port", str(port),
            "--backfill-days", "0.1", "--rate", "20",
        ]  # fmt: skip
        stderr_path = tmp_path / f"demo-{len(started)}.err"
        with stderr_path.open("wb") as err, stderr_path.with_suffix(".out").open("wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=tmp_path)
        demo = Demo(proc, stderr_path)
        started.append(demo)
        return demo

    yield start
    for demo in started:
        if demo.proc.poll() is None:
            demo.proc.kill()
            demo.proc.wait()


def stop(demo: Demo, sig: signal.Signals) -> int:
    demo.proc.send_signal(sig)
    try:
        return demo.proc.wait(30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the demo did not stop within 30 s of {sig.name}:\n{demo.stderr[-4000:]}")


def count(url: str, key: str, start: datetime, end: datetime) -> int | None:
    """acme's events in [start, end), or None while the hub does not answer yet."""
    try:
        r = httpx.post(
            f"{url}/api/v1/query",
            headers={"Authorization": f"Bearer {key}"},
            json={
                "time_range": {"from": start.isoformat(), "to": end.isoformat()},
                "aggregates": [{"fn": "count", "as": "n"}],
            },
            timeout=10,
        )
    except httpx.HTTPError:
        return None
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    return int(rows[0]["n"]) if rows else 0


def total(url: str, key: str) -> int | None:
    now = datetime.now(UTC)
    return count(url, key, now - timedelta(days=1), now + timedelta(hours=1))


def banner(demo: Demo) -> tuple[str, str]:
    def probe() -> tuple[str, str] | None:
        text = demo.stderr
        key, url = BANNER_KEY.search(text), BANNER_URL.search(text)
        return (url.group(1), key.group(1)) if key and url else None

    return wait_for("URL and API key on stderr", probe, demo)


def test_demo_backfills_once_serves_live_traffic_and_stops_cleanly(
    tmp_path: Path, run_demo: Callable[[Path, int], Demo]
) -> None:
    data_dir = tmp_path / "demo-data"

    # first run: backfill, then live traffic
    started = datetime.now(UTC)
    port = free_port()
    first = run_demo(data_dir, port)
    url, key = banner(first)
    assert url == f"http://127.0.0.1:{port}"
    assert "backfilling history, then live traffic" in first.stderr
    assert "injected incidents to find" in first.stderr
    wait_for("events visible with the printed key", lambda: total(url, key) or None, first)
    # the runner logs each tenant's backfill, acme's then globex's; live traffic follows
    wait_for(
        "the end of the backfill", lambda: "demo backfill globex" in first.stderr or None, first
    )
    backfilled = count(url, key, started - timedelta(days=1), started)
    assert backfilled is not None
    assert backfilled > 0, "the first run backfills history"
    before_stop = total(url, key)
    assert before_stop is not None
    assert before_stop >= backfilled

    code = stop(first, signal.SIGTERM)
    assert code in (0, 128 + signal.SIGTERM, -signal.SIGTERM), first.stderr[-4000:]
    assert "Traceback" not in first.stderr
    state = json.loads((data_dir / "demo.json").read_text())
    assert state["user_key"] == key
    assert state["backfilled"] is True, "a stopped first run must not backfill again next time"

    # second run on the same directory: the same key, live traffic only
    port = free_port()
    second = run_demo(data_dir, port)
    url, key_again = banner(second)
    assert key_again == key
    assert "  live traffic" in second.stderr
    assert "backfilling" not in second.stderr
    after_restart = wait_for("an answer from the restarted hub", lambda: total(url, key), second)
    assert after_restart >= before_stop
    assert after_restart - before_stop < backfilled, "the total jumped by a backfill's volume"
    wait_for(
        "live events on the second run",
        lambda: ((n := total(url, key)) is not None and n > after_restart) or None,
        second,
    )
    assert "demo backfill" not in second.stderr
    assert count(url, key, started - timedelta(days=1), started) == backfilled

    code = stop(second, signal.SIGINT)
    assert code in (0, 128 + signal.SIGINT, -signal.SIGINT), second.stderr[-4000:]
    assert "Traceback" not in second.stderr
    assert json.loads((data_dir / "demo.json").read_text()) == state
