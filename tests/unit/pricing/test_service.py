"""The pricing service: overrides in the control store reach ingest pricing, at once
from this process and within the refresh interval from another; a control store that
fails never lets a wrong price through; the ingest service applies the step."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from analytics_hub.control.base import PriceOverrideRecord
from analytics_hub.control.sqlite import SQLiteControlStore
from analytics_hub.errors import UnavailableError, ValidationError
from analytics_hub.events import Normalizer
from analytics_hub.ingest.deadletters import DeadLetterService
from analytics_hub.ingest.service import IngestService
from analytics_hub.pricing import (
    OverrideInput,
    PriceBook,
    PricePeriod,
    PricingService,
    decode_price_file,
    shipped_price_file,
)
from analytics_hub.store.base import DeadLetterRecord
from analytics_hub.testing.envelopes import llm_call

BOOK = PriceBook(shipped_price_file())
NOW = dt.datetime.now(dt.UTC)
NORMALIZER = Normalizer(currency_rates={})


def table_of(*events: dict[str, Any]) -> pa.Table:
    decoded = NORMALIZER.decode_json(json.dumps(events).encode(), tenant_id="acme", received_at=NOW)
    assert not decoded.errors
    return decoded.table


def acme_call(**data: Any) -> dict[str, Any]:
    return llm_call(
        model_id="ACME-FT-1",
        provider="vllm",
        cost_usd=None,
        input_tokens=1000,
        output_tokens=1000,
        timestamp=NOW,
        **data,
    )


def costs(service: PricingService, tenant: str, *events: dict[str, Any]) -> list[Any]:
    table = service.price(tenant, table_of(*events))
    return list(zip(table["cost_usd"].to_pylist(), table["cost_source"].to_pylist(), strict=True))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def control(tmp_path: Path) -> SQLiteControlStore:
    return SQLiteControlStore(tmp_path / "control.sqlite")


def override(provider: str = "vllm", model: str = "acme-ft-1", **prices: Any) -> OverrideInput:
    values = {"from_": dt.date(1970, 1, 1), "input": 1.0, "output": 3.0} | prices
    return OverrideInput(provider, model, PricePeriod(**values))


def test_an_override_put_here_prices_the_next_batch_at_once(control: SQLiteControlStore) -> None:
    service = PricingService(BOOK, control)
    assert costs(service, "acme", acme_call()) == [(None, "unpriced")]
    record = service.put_override("acme", override(provider="VLLM", model=" Acme-FT-1 "))
    assert (record.provider, record.model) == ("vllm", "acme-ft-1")  # stored normalised
    assert costs(service, "acme", acme_call()) == [(pytest.approx(0.004), "computed")]
    assert costs(service, "globex", acme_call()) == [(None, "unpriced")]  # tenants apart


def test_an_override_from_another_process_counts_after_the_refresh(
    control: SQLiteControlStore, tmp_path: Path
) -> None:
    clock = Clock()
    service = PricingService(BOOK, control, refresh_seconds=30, clock=clock)
    assert costs(service, "acme", acme_call()) == [(None, "unpriced")]
    other = PricingService(BOOK, SQLiteControlStore(tmp_path / "control.sqlite"))
    other.put_override("acme", override())
    clock.now = 29.0
    assert costs(service, "acme", acme_call()) == [(None, "unpriced")]
    clock.now = 31.0
    assert costs(service, "acme", acme_call()) == [(pytest.approx(0.004), "computed")]


def test_deleting_overrides_one_day_or_all(control: SQLiteControlStore) -> None:
    service = PricingService(BOOK, control)
    service.put_override("acme", override(from_=dt.date(2025, 1, 1)))
    service.put_override("acme", override(from_=dt.date(2025, 2, 1), input=2.0))
    assert service.delete_overrides("acme", "vllm", "acme-ft-1", dt.date(2025, 2, 1)) == 1
    assert [p.from_ for e in service.entries("acme", provider="vllm") for p, _ in e.periods] == [
        dt.date(2025, 1, 1)
    ]
    assert service.delete_overrides("acme", "vllm", "ACME-FT-1") == 1
    assert service.entries("acme", provider="vllm") == []
    assert costs(service, "acme", acme_call()) == [(None, "unpriced")]


def test_an_invalid_override_is_refused(control: SQLiteControlStore) -> None:
    service = PricingService(BOOK, control)
    with pytest.raises(ValidationError, match="invalid price"):
        service.put_override("acme", override(input=-1.0))
    with pytest.raises(ValidationError, match="provider and a model"):
        service.put_override("acme", override(model="  "))
    assert control.list_price_overrides("acme") == []


def test_importing_a_file_with_and_without_replace(control: SQLiteControlStore) -> None:
    service = PricingService(BOOK, control)
    service.put_override("acme", override(from_=dt.date(2024, 1, 1)))
    file = decode_price_file(
        b'[[models]]\nprovider = "vllm"\nmodel = "acme-ft-1"\n'
        b"prices = [{ from = 2025-01-01, input = 1, output = 2 },"
        b" { from = 2025-06-01, input = 0.5, output = 1 }]\n"
    )
    assert service.import_overrides("acme", file) == 2
    assert len(control.list_price_overrides("acme")) == 3
    assert service.import_overrides("acme", file, replace=True) == 2
    assert [r.valid_from for r in control.list_price_overrides("acme")] == [
        dt.date(2025, 1, 1),
        dt.date(2025, 6, 1),
    ]


class FailingControl:
    """A control store whose reads fail after ``ok`` successful ones."""

    def __init__(self, ok: int, overrides: list[PriceOverrideRecord]) -> None:
        self.ok = ok
        self.overrides = overrides

    def list_price_overrides(self, tenant_id: str) -> list[PriceOverrideRecord]:
        if self.ok <= 0:
            raise OSError("disk I/O error")
        self.ok -= 1
        return self.overrides


def test_a_failing_refresh_keeps_the_last_overrides_and_a_first_read_fails_loudly() -> None:
    record = PriceOverrideRecord(
        "acme", "vllm", "acme-ft-1", dt.date(1970, 1, 1), 1.0, 3.0, None, None, NOW
    )
    clock = Clock()
    control: Any = FailingControl(ok=1, overrides=[record])
    service = PricingService(BOOK, control, refresh_seconds=1, clock=clock)
    assert costs(service, "acme", acme_call()) == [(pytest.approx(0.004), "computed")]
    clock.now = 5.0
    assert costs(service, "acme", acme_call()) == [(pytest.approx(0.004), "computed")]
    # without any view of a tenant's overrides, shipped prices could be wrong: refuse
    with pytest.raises(UnavailableError, match="price overrides"):
        service.price("globex", table_of(acme_call()))


def test_reprice_without_an_event_store_is_unavailable() -> None:
    with pytest.raises(UnavailableError):
        PricingService(BOOK).reprice("acme")


class FakePipeline:
    def __init__(self) -> None:
        self.tables: list[pa.Table] = []

    def submit(self, table: pa.Table, letters: object) -> Future[int]:
        self.tables.append(table)
        done: Future[int] = Future()
        done.set_result(1)
        return done


def test_the_ingest_service_prices_each_batch_before_publishing(
    control: SQLiteControlStore,
) -> None:
    pipeline = FakePipeline()
    pricing = PricingService(BOOK, control)
    ingest = IngestService(NORMALIZER, pipeline, max_batch_events=100, pricer=pricing)  # type: ignore[arg-type]
    decoded = NORMALIZER.decode_json(
        json.dumps([acme_call(), llm_call(cost_usd=None, timestamp=NOW)]).encode(),
        tenant_id="acme",
        received_at=NOW,
    )
    result = asyncio.run(ingest.store("acme", decoded))
    assert result.accepted == 2
    (published,) = pipeline.tables
    assert published["cost_source"].to_pylist() == ["unpriced", "computed"]


class FakeDeadLetterStore:
    def __init__(self, raw: str) -> None:
        self.record = DeadLetterRecord("d1", "acme", NOW, 0, [], raw, "pending", None)
        self.replayed: list[str] = []

    def get_dead_letters(self, tenant_id: str, ids: list[str]) -> list[DeadLetterRecord]:
        return [self.record]

    def mark_dead_letters_replayed(self, tenant_id: str, ids: list[str]) -> int:
        self.replayed += ids
        return len(ids)


class FakeWriter:
    def __init__(self) -> None:
        self.tables: list[pa.Table] = []

    async def write(self, table: pa.Table, *, visible: bool) -> None:
        self.tables.append(table)


def test_replayed_dead_letters_are_priced_like_ingested_calls(
    control: SQLiteControlStore,
) -> None:
    store, writer = FakeDeadLetterStore(json.dumps(acme_call())), FakeWriter()
    pricing = PricingService(BOOK, control)
    pricing.put_override("acme", override())
    replays = DeadLetterService(store, NORMALIZER, writer, pricer=pricing)  # type: ignore[arg-type]
    outcome = asyncio.run(replays.replay("acme", ["d1"]))
    assert outcome.replayed == ["d1"]
    (written,) = writer.tables
    assert written["cost_source"].to_pylist() == ["computed"]
