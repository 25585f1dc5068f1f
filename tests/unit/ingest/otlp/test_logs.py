"""Log records become ``otel_log`` custom events: severity mapped, body and attributes kept."""

from __future__ import annotations

from typing import Any

import pytest

from analytics_hub.events import CustomPayload, Envelope
from analytics_hub.ingest.otlp import OtlpOptions, map_logs, severity_of
from analytics_hub.ingest.otlp.ids import span_event_id

from .builders import START, TRACE, log_record, logs


def _data(envelope: Envelope) -> dict[str, Any]:
    assert isinstance(envelope.payload, CustomPayload)
    assert envelope.payload.data.custom_type == "otel_log"
    data: dict[str, Any] = envelope.payload.data.data
    return data


@pytest.mark.parametrize(
    ("number", "text", "severity"),
    [
        (1, "TRACE", "debug"),
        (5, "DEBUG", "debug"),
        (9, "INFO", "info"),
        (12, "INFO4", "info"),
        (13, "WARN", "warning"),
        (17, "ERROR", "error"),
        (21, "FATAL", "critical"),
        (24, "", "critical"),
        (0, "Warning", "warning"),
        (0, "err", "error"),
        (0, "CRITICAL", "critical"),
        (0, "ERROR2", "error"),
        (0, "", "info"),
        (0, "chatty", "info"),
    ],
)
def test_severity_numbers_and_texts_map_to_the_envelope_severity(
    number: int, text: str, severity: str
) -> None:
    assert severity_of(number, text) == severity


def test_a_log_record_keeps_its_body_attributes_and_trace_context() -> None:
    record = log_record(
        {"message": "tool failed", "retries": [1, 2]},
        severity_number=17,
        severity_text="ERROR",
        attrs={"code.function": "answer", "http.status": 502},
        trace=TRACE,
        span_id=9,
        event_name="app.tool.failure",
    )
    (envelope,) = map_logs(logs(record)).envelopes
    assert (envelope.event_type, envelope.severity, envelope.timestamp) == (
        "custom",
        "error",
        START,
    )
    assert (envelope.trace_id, envelope.span_id) == (TRACE.hex(), "0000000000000009")
    assert envelope.parent_event_id == span_event_id(TRACE, (9).to_bytes(8, "big"))
    assert (envelope.asset_id, envelope.environment) == ("checkout", "staging")
    assert _data(envelope) == {
        "body": {"message": "tool failed", "retries": [1, 2]},
        "severity_number": 17,
        "severity_text": "ERROR",
        "event_name": "app.tool.failure",
        "attributes": {"code.function": "answer", "http.status": 502},
    }


def test_a_text_body_stays_text_and_bytes_become_base64() -> None:
    (text,) = map_logs(logs(log_record("plain words"))).envelopes
    assert _data(text)["body"] == "plain words"
    (raw,) = map_logs(logs(log_record(b"\x00\x01"))).envelopes
    assert _data(raw)["body"] == "AAE="
    (none,) = map_logs(logs(log_record(None))).envelopes
    assert "body" not in _data(none)
    assert none.trace_id is None
    assert none.parent_event_id is None


def test_observed_time_stands_in_for_a_missing_time() -> None:
    record = log_record(time=0)
    record.observed_time_unix_nano = START + 5
    (envelope,) = map_logs(logs(record)).envelopes
    assert envelope.timestamp == START + 5


def test_the_same_record_gets_the_same_event_id_and_a_different_one_another() -> None:
    one = map_logs(logs(log_record("a"))).envelopes[0].event_id
    assert one == map_logs(logs(log_record("a"))).envelopes[0].event_id
    assert one != map_logs(logs(log_record("b"))).envelopes[0].event_id
    other_service = map_logs(logs(log_record("a"), resource={"service.name": "x"}))
    assert one != other_service.envelopes[0].event_id


def test_bad_records_are_rejected_one_by_one() -> None:
    no_time = log_record(time=0)
    bad_span = log_record(trace=TRACE)
    bad_span.span_id = b"\x01\x02\x03"
    crowded = log_record(attrs={f"k{i}": i for i in range(11)})
    mapped = map_logs(
        logs(log_record("ok"), no_time, bad_span, crowded), OtlpOptions(max_attributes=10)
    )
    assert [(e.index, e.field) for e in mapped.errors] == [
        (1, "time_unix_nano"),
        (2, "span_id"),
        (3, "attributes"),
    ]
    assert mapped.positions == [0]
    assert '"otlp_log_record"' in mapped.rejected_raw[2]
