"""Preparing OTLP requests in worker processes (real processes, a real fork server): the
same outcome as in the serving process, errors that keep their kind, and a pool that
recovers from a stopped process."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
from collections.abc import Iterator

import pyarrow as pa
import pytest
from tests.unit.ingest.otlp.builders import TENANT, log_record, logs, normalizer, span, traces

from analytics_hub.errors import DecodeError, PayloadTooLargeError, UnavailableError
from analytics_hub.events import Normalizer
from analytics_hub.ingest.otlp import (
    OtlpEncoding,
    OtlpOptions,
    Prepared,
    PreparingProcesses,
    prepare,
)

CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": 120,
    "gen_ai.usage.output_tokens": 30,
}
OPTIONS = OtlpOptions(max_items=10)
# Set when the batch is normalised, so different wherever it runs.
_RECEIPT = ("received_at", "skew_ms")


@pytest.fixture
def processes() -> Iterator[PreparingProcesses]:
    pool = PreparingProcesses(normalizer(), OPTIONS, processes=1)
    yield pool
    pool.close()


def _rows(prepared: Prepared) -> pa.Table:
    table = prepared.batch.table
    return table.drop_columns([c for c in _RECEIPT if c in table.column_names])


def _body() -> bytes:
    return traces(
        span(CHAT, span_id=1),
        span({"gen_ai.operation.name": "chat"}, span_id=2),  # no model: rejected
        span({}, name="GET /", span_id=3, parent=1),
    ).SerializeToString()


def test_a_normaliser_pickles_to_one_with_the_same_settings() -> None:
    original = Normalizer(currency_rates={"EUR": 1.1}, max_age_seconds=60.0)
    copy = pickle.loads(pickle.dumps(original))
    assert copy.limits == original.limits
    body = _body()
    left = prepare("traces", original, OPTIONS, TENANT, body, OtlpEncoding.PROTOBUF)
    right = prepare("traces", copy, OPTIONS, TENANT, body, OtlpEncoding.PROTOBUF)
    assert _rows(left).equals(_rows(right))


def test_a_process_prepares_what_the_serving_process_would(
    processes: PreparingProcesses,
) -> None:
    body = _body()
    here = prepare("traces", normalizer(), OPTIONS, TENANT, body, OtlpEncoding.PROTOBUF)
    there = asyncio.run(processes.prepare("traces", TENANT, body, OtlpEncoding.PROTOBUF))
    assert (there.items, there.dropped, there.batch.total) == (3, 0, 3)
    assert _rows(there).equals(_rows(here))
    assert there.batch.errors == here.batch.errors
    assert there.batch.rejected_raw == here.batch.rejected_raw
    assert [e.index for e in there.batch.errors] == [1]

    log_body = logs(log_record("disk full", severity_number=17)).SerializeToString()
    here_logs = prepare("logs", normalizer(), OPTIONS, TENANT, log_body, OtlpEncoding.PROTOBUF)
    there_logs = asyncio.run(processes.prepare("logs", TENANT, log_body, OtlpEncoding.PROTOBUF))
    assert there_logs.batch.accepted == 1
    assert _rows(there_logs).equals(_rows(here_logs))


def test_errors_raised_in_a_process_keep_their_kind_and_message(
    processes: PreparingProcesses,
) -> None:
    truncated = _body()[:-7]
    with pytest.raises(DecodeError, match="not a valid ExportTraceServiceRequest"):
        asyncio.run(processes.prepare("traces", TENANT, truncated, OtlpEncoding.PROTOBUF))
    too_many = traces(*(span(CHAT, span_id=i + 1) for i in range(11))).SerializeToString()
    with pytest.raises(PayloadTooLargeError, match="more than 10 spans"):
        asyncio.run(processes.prepare("traces", TENANT, too_many, OtlpEncoding.PROTOBUF))
    # The process is still there for the next request.
    ok = asyncio.run(processes.prepare("traces", TENANT, _body(), OtlpEncoding.PROTOBUF))
    assert ok.batch.accepted == 2


def _worker_pids(processes: PreparingProcesses) -> list[int]:
    pool = processes._pool  # the executor's processes: only a test kills them
    assert pool is not None
    return list(pool._processes)  # type: ignore[attr-defined]


def test_a_stopped_process_is_replaced_by_a_new_pool(processes: PreparingProcesses) -> None:
    body = _body()

    async def scenario() -> None:
        await processes.prepare("traces", TENANT, body, OtlpEncoding.PROTOBUF)
        (pid,) = _worker_pids(processes)
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):  # until the executor has noticed
            await asyncio.sleep(0.05)
            if processes._pool is None or processes._pool._broken:  # type: ignore[attr-defined]
                break
        # The next request is not failed for a process that stopped before it came.
        again = await processes.prepare("traces", TENANT, body, OtlpEncoding.PROTOBUF)
        assert again.batch.accepted == 2
        assert _worker_pids(processes) != [pid]

    asyncio.run(scenario())


def test_a_request_whose_process_stops_is_answered_unavailable(
    processes: PreparingProcesses,
) -> None:
    body = _body()

    async def scenario() -> None:
        await processes.prepare("traces", TENANT, body, OtlpEncoding.PROTOBUF)
        (pid,) = _worker_pids(processes)
        # Kill the process while it holds a request: a body of many spans keeps it busy.
        big = traces(*(span(CHAT, span_id=i + 1) for i in range(5000))).SerializeToString()
        wide = PreparingProcesses(normalizer(), OtlpOptions(), processes=1)
        try:
            await wide.prepare("traces", TENANT, body, OtlpEncoding.PROTOBUF)
            (wide_pid,) = _worker_pids(wide)
            pending = asyncio.ensure_future(
                wide.prepare("traces", TENANT, big, OtlpEncoding.PROTOBUF)
            )
            await asyncio.sleep(0.05)
            os.kill(wide_pid, signal.SIGKILL)
            with pytest.raises(UnavailableError, match="stopped; retry"):
                await pending
            after = await wide.prepare("traces", TENANT, body, OtlpEncoding.PROTOBUF)
            assert after.batch.accepted == 2
        finally:
            wide.close()
        assert pid in _worker_pids(processes)  # the other pool was not touched

    asyncio.run(scenario())


class _Seen:
    """A PreparingObserver that keeps what it is told."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.replaced = 0

    def otlp_prepared(self, seconds: float) -> None:
        self.seconds.append(seconds)

    def otlp_pool_replaced(self) -> None:
        self.replaced += 1


def test_the_observer_sees_every_request_and_each_pool_given_up_once() -> None:
    seen = _Seen()
    pool = PreparingProcesses(normalizer(), OtlpOptions(), processes=1, observer=seen)
    body = _body()
    big = traces(*(span(CHAT, span_id=i + 1) for i in range(10_000))).SerializeToString()

    async def scenario() -> None:
        await pool.prepare("traces", TENANT, body, OtlpEncoding.PROTOBUF)
        assert len(seen.seconds) == 1
        assert seen.seconds[0] > 0
        assert pool.in_flight == 0
        # One request being prepared, one waiting for the process behind it.
        busy = asyncio.ensure_future(pool.prepare("traces", TENANT, big, OtlpEncoding.PROTOBUF))
        waiting = asyncio.ensure_future(pool.prepare("traces", TENANT, body, OtlpEncoding.PROTOBUF))
        await asyncio.sleep(0.05)
        assert pool.in_flight == 2
        (pid,) = _worker_pids(pool)
        os.kill(pid, signal.SIGKILL)
        outcomes = await asyncio.gather(busy, waiting, return_exceptions=True)
        assert [type(o) for o in outcomes] == [UnavailableError, UnavailableError]
        # Both requests found the pool broken; it was given up, and counted, once.
        assert seen.replaced == 1
        assert pool.in_flight == 0
        assert len(seen.seconds) == 3
        after = await pool.prepare("traces", TENANT, body, OtlpEncoding.PROTOBUF)
        assert after.batch.accepted == 2
        assert (seen.replaced, len(seen.seconds)) == (1, 4)

    try:
        asyncio.run(scenario())
    finally:
        pool.close()


def test_a_closed_pool_refuses_as_unavailable(processes: PreparingProcesses) -> None:
    processes.close()
    with pytest.raises(UnavailableError, match="shutting down"):
        asyncio.run(processes.prepare("traces", TENANT, _body(), OtlpEncoding.PROTOBUF))


def test_at_least_one_process() -> None:
    with pytest.raises(ValueError, match="processes must be >= 1"):
        PreparingProcesses(normalizer(), OPTIONS, processes=0)
