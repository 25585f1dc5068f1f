"""Live notices between processes over core NATS, and the row codec they use."""

from __future__ import annotations

import io
import os
import secrets
import threading
import time
from collections.abc import Callable

import pyarrow as pa
import pytest
from tests.conftest import require_service

from analytics_hub.bus.broadcast import NatsBroadcast
from analytics_hub.server.live_fanout import (
    RowsInterest,
    connect_live_feed,
    decode_rows,
    encode_rows,
)
from analytics_hub.testing.nats import DEFAULT_TEST_URL, host_and_port

URL = os.environ.get("HUB_TEST_NATS_URL", DEFAULT_TEST_URL)


def test_rows_are_cut_under_the_payload_limit_and_come_back_whole() -> None:
    rows = pa.table({"id": list(range(5000)), "text": ["x" * 200] * 5000})
    pieces = encode_rows(rows, max_payload=100_000)
    assert len(pieces) > 1
    assert all(len(p) <= 100_000 for p in pieces)
    assert pa.concat_tables([decode_rows(p) for p in pieces]).equals(rows)
    assert encode_rows(rows.slice(0, 0), max_payload=100_000) == []


def test_rows_travel_compressed_and_an_older_writers_messages_still_decode() -> None:
    rows = pa.table({"id": list(range(2000)), "text": ["y" * 100] * 2000})
    (piece,) = encode_rows(rows, max_payload=1 << 20)
    assert len(piece) < rows.nbytes // 10  # repetitive rows shrink a lot
    # An older writer sent the IPC stream with Arrow's per-buffer compression.
    sink = io.BytesIO()
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.ipc.new_stream(sink, rows.schema, options=options) as writer:
        writer.write_table(rows)
    assert decode_rows(sink.getvalue()).equals(rows)
    assert decode_rows(piece).equals(rows)


def test_notices_stay_outside_the_event_stream_subjects() -> None:
    # The stream takes "<prefix>.>": a notice there would reach the writers as a message.
    for prefix in ("events", "t1.events"):
        subject = NatsBroadcast(URL, prefix).subject("rows")
        assert not subject.startswith(f"{prefix}.")
        assert not subject.startswith(f"deadletter.{prefix}.")


@pytest.mark.service
def test_every_listener_hears_every_notice_of_its_topic() -> None:
    require_service("NATS", *host_and_port(URL), "nats-server -js")
    prefix = f"t{secrets.token_hex(4)}"
    heard: dict[str, list[bytes]] = {"a": [], "b": []}
    done = threading.Event()
    listeners = []
    for name in heard:
        b = NatsBroadcast(URL, prefix)
        b.subscribe("rows", heard[name].append)
        b.subscribe("other", lambda _: done.set())
        b.start()
        listeners.append(b)
    sender = NatsBroadcast(URL, prefix)
    sender.start()
    try:
        for i in range(20):
            sender.publish("rows", f"n{i}".encode())
        sender.publish("rows", b"x" * (sender.max_payload + 1))  # over the limit: not sent
        deadline = time.monotonic() + 5
        while any(len(v) < 20 for v in heard.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert heard["a"] == heard["b"] == [f"n{i}".encode() for i in range(20)]
        assert not done.is_set()
    finally:
        for b in [*listeners, sender]:
            b.close()


def _wait_for(predicate: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()


@pytest.mark.service
def test_a_writer_announces_rows_only_while_a_listener_wants_them() -> None:
    require_service("NATS", *host_and_port(URL), "nats-server -js")
    prefix = f"t{secrets.token_hex(4)}"
    rows = pa.table({"id": [1, 2, 3]})
    received: list[pa.Table | None] = []
    wanted = threading.Event()
    api, writer = NatsBroadcast(URL, prefix), NatsBroadcast(URL, prefix)
    listening = connect_live_feed(
        api, received.append, lambda _: None, listen=True, wants_rows=wanted.is_set
    )
    interest = RowsInterest(hold=0.5)
    writing = connect_live_feed(
        writer, lambda _: None, lambda _: None, listen=False, interest=interest
    )
    api.start()
    writer.start()
    try:
        assert _wait_for(lambda: not interest.active())  # past its first hold
        writing.announce_rows(rows)
        listening.express_interest()  # not wanted yet: says nothing
        time.sleep(0.3)
        assert received == []
        assert not interest.active()

        wanted.set()  # say, a live subscription opened
        listening.express_interest()
        assert _wait_for(interest.active)
        writing.announce_rows(rows)
        assert _wait_for(lambda: len(received) == 1)
        assert received[0] is not None
        assert received[0].equals(rows)

        assert _wait_for(lambda: not interest.active())  # no notice for a hold: it stops
        writing.announce_rows(rows)
        time.sleep(0.3)
        assert len(received) == 1
    finally:
        api.close()
        writer.close()
