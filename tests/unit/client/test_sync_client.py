from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from analytics_hub.client import HubClient, HubClientError, HubRetryExhaustedError, IngestError

from .conftest import Recorder, accept_all, decoded_body, envelope


def make_client(handler: Recorder, sleeps: list[float], **kwargs: object) -> HubClient:
    return HubClient(
        "http://hub.test/",
        "key-123",
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        **kwargs,  # type: ignore[arg-type]
    )


def events(n: int) -> list[dict[str, object]]:
    return [{"event_id": f"e{i}", "n": i} for i in range(n)]


def test_send_splits_the_stream_into_batches_of_batch_size(sleeps: list[float]) -> None:
    peer = Recorder()
    with make_client(peer, sleeps, batch_size=1000) as hub:
        report = hub.send(iter(events(2500)))

    sizes = [len(decoded_body(r)) for r in peer.requests]
    assert sizes == [1000, 1000, 500]
    assert decoded_body(peer.requests[2])[0] == {"event_id": "e2000", "n": 2000}
    assert (report.accepted, report.rejected, report.batches, report.submitted) == (
        2500,
        0,
        3,
        2500,
    )
    assert report.ok
    assert sleeps == []


def test_requests_carry_the_key_path_and_content_type(sleeps: list[float]) -> None:
    peer = Recorder()
    with make_client(peer, sleeps) as hub:
        hub.send(events(1))
    request = peer.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "http://hub.test/api/v1/events"
    assert request.headers["authorization"] == "Bearer key-123"
    assert request.headers["content-type"] == "application/json"


def test_error_indexes_are_remapped_to_the_callers_stream(sleeps: list[float]) -> None:
    def reject_fourth(request: httpx.Request) -> httpx.Response:
        batch = decoded_body(request)
        return httpx.Response(
            202,
            json={
                "accepted": len(batch) - 1,
                "rejected": 1,
                "errors": [{"index": 3, "field": "timestamp", "message": "required"}],
            },
        )

    with make_client(Recorder(default=reject_fourth), sleeps, batch_size=10) as hub:
        report = hub.send(events(25))

    assert report.accepted == 22
    assert report.rejected == 3
    assert [e.index for e in report.errors] == [3, 13, 23]
    assert report.errors[0] == IngestError(3, "timestamp", "required")
    assert not report.ok


@pytest.mark.parametrize("compression", ["gzip", "zstd", None])
def test_the_body_is_compressed_as_asked(compression: str | None, sleeps: list[float]) -> None:
    peer = Recorder()
    with make_client(peer, sleeps, compression=compression) as hub:
        hub.send(events(3))
    request = peer.requests[0]
    assert request.headers.get("content-encoding") == compression
    assert decoded_body(request) == events(3)
    if compression is not None:
        assert request.content[:1] != b"["


def test_pre_encoded_events_are_sent_as_they_are(sleeps: list[float]) -> None:
    peer = Recorder()
    with make_client(peer, sleeps, compression=None) as hub:
        hub.send([b' {"a": 1}\n', {"b": 2}])
    assert peer.requests[0].content == b'[{"a": 1},{"b":2}]'


def test_a_batch_closes_before_it_passes_max_batch_bytes(sleeps: list[float]) -> None:
    peer = Recorder()
    big = [{"blob": "x" * 400} for _ in range(5)]
    with make_client(peer, sleeps, max_batch_bytes=1000) as hub:
        report = hub.send(big)
    assert [len(decoded_body(r)) for r in peer.requests] == [2, 2, 1]
    assert report.accepted == 5


def test_an_event_that_is_not_an_object_names_its_index(sleeps: list[float]) -> None:
    with make_client(Recorder(), sleeps) as hub, pytest.raises(TypeError, match="event 1"):
        hub.send([{"a": 1}, b"[1, 2]"])


def test_retry_after_seconds_is_honoured(sleeps: list[float]) -> None:
    peer = Recorder(envelope(429, "overloaded", "queue full", **{"Retry-After": "7"}))
    with make_client(peer, sleeps) as hub:
        report = hub.send(events(2))
    assert len(peer.requests) == 2
    assert len(sleeps) == 1
    assert 7.0 <= sleeps[0] <= 7.7
    assert report.accepted == 2


def test_retry_after_http_date_is_measured_against_the_servers_date(sleeps: list[float]) -> None:
    # The server's clock says 12:00:00 and asks to come back at 12:00:05: five seconds,
    # whatever the local clock says.
    peer = Recorder(
        envelope(
            503,
            "unavailable",
            "store down",
            **{
                "Retry-After": "Wed, 21 Oct 2015 12:00:05 GMT",
                "Date": "Wed, 21 Oct 2015 12:00:00 GMT",
            },
        )
    )
    with make_client(peer, sleeps) as hub:
        hub.send(events(1))
    assert 5.0 <= sleeps[0] <= 5.5


def test_connection_errors_are_retried_with_growing_backoff(sleeps: list[float]) -> None:
    peer = Recorder(
        httpx.ConnectError("refused"), httpx.ConnectError("refused"), httpx.ReadTimeout("slow")
    )
    with make_client(peer, sleeps, backoff_base=1.0, backoff_max=100.0) as hub:
        report = hub.send(events(1))
    assert report.accepted == 1
    assert len(peer.requests) == 4
    assert 0.5 <= sleeps[0] <= 1.0
    assert 1.0 <= sleeps[1] <= 2.0
    assert 2.0 <= sleeps[2] <= 4.0


def test_backoff_is_capped_at_backoff_max(sleeps: list[float]) -> None:
    peer = Recorder(*[httpx.ConnectError("refused")] * 6)
    with make_client(peer, sleeps, backoff_base=1.0, backoff_max=3.0) as hub:
        hub.send(events(1))
    assert max(sleeps) <= 3.0


def test_retries_are_exhausted_with_the_last_answer(sleeps: list[float]) -> None:
    peer = Recorder(
        default=lambda _: envelope(429, "overloaded", "queue full", **{"Retry-After": "1"})
    )
    with (
        make_client(peer, sleeps, max_retries=3) as hub,
        pytest.raises(HubRetryExhaustedError) as info,
    ):
        hub.send(events(1))
    error = info.value
    assert (error.status, error.code, error.attempts) == (429, "overloaded", 4)
    assert "queue full" in error.message
    assert len(peer.requests) == 4
    assert len(sleeps) == 3


def test_exhaustion_by_connection_errors_keeps_the_cause(sleeps: list[float]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    hub = make_client(Recorder(default=refuse), sleeps, max_retries=2)
    with hub, pytest.raises(HubRetryExhaustedError) as info:
        hub.health()
    assert info.value.status is None
    assert info.value.code == "connection_error"
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_a_failed_send_reports_how_far_it_got(sleeps: list[float]) -> None:
    peer = Recorder(
        default=lambda r: (
            envelope(413, "payload_too_large", "too big")
            if len(peer.requests) == 2
            else accept_all(r)
        )
    )
    with make_client(peer, sleeps, batch_size=2) as hub, pytest.raises(HubClientError) as info:
        hub.send(events(6))
    report = info.value.report
    assert report is not None
    assert (report.accepted, report.submitted, report.batches) == (2, 2, 1)


def test_the_error_envelope_becomes_a_client_error_without_retrying(sleeps: list[float]) -> None:
    peer = Recorder(envelope(401, "unauthenticated", "missing or invalid API key", {"hint": "x"}))
    with make_client(peer, sleeps) as hub, pytest.raises(HubClientError) as info:
        hub.send(events(1))
    error = info.value
    assert not isinstance(error, HubRetryExhaustedError)
    assert (error.status, error.code, error.message, error.details) == (
        401,
        "unauthenticated",
        "missing or invalid API key",
        {"hint": "x"},
    )
    assert len(peer.requests) == 1
    assert sleeps == []


def test_an_answer_that_is_not_the_envelope_still_gives_a_clear_error(sleeps: list[float]) -> None:
    peer = Recorder(httpx.Response(500, text="<html>oops</html>"))
    with make_client(peer, sleeps) as hub, pytest.raises(HubClientError) as info:
        hub.query({"time_range": {}})
    assert info.value.code == "http_500"
    assert "oops" in info.value.message


def test_a_success_that_is_not_json_is_an_invalid_response(sleeps: list[float]) -> None:
    peer = Recorder(httpx.Response(200, text="not json"))
    with make_client(peer, sleeps) as hub, pytest.raises(HubClientError) as info:
        hub.health()
    assert info.value.code == "invalid_response"


def test_query_posts_the_query_as_json(sleeps: list[float]) -> None:
    peer = Recorder(httpx.Response(200, json={"rows": [], "next_cursor": None}))
    query = {"time_range": {"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}}
    with make_client(peer, sleeps) as hub:
        result = hub.query(query)
    request = peer.requests[0]
    assert (request.method, request.url.path) == ("POST", "/api/v1/query")
    assert decoded_body(request) == query
    assert "content-encoding" not in request.headers
    assert result == {"rows": [], "next_cursor": None}


def test_events_and_overview_send_their_parameters(sleeps: list[float]) -> None:
    peer = Recorder(default=lambda _: httpx.Response(200, json={"ok": True}))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with make_client(peer, sleeps) as hub:
        hub.events(
            start=start,
            end="2025-01-02T00:00:00Z",
            filters=["model_id:eq:gpt-4o", "status:eq:error"],
            limit=50,
            params={"x": "y"},
        )
        hub.overview(start=start, bucket="1h")
        assert hub.health() == {"ok": True}
    first, second, third = peer.requests
    assert (first.method, first.url.path) == ("GET", "/api/v1/events")
    assert first.url.params.multi_items() == [
        ("x", "y"),
        ("from", "2025-01-01T00:00:00Z"),
        ("to", "2025-01-02T00:00:00Z"),
        ("filter", "model_id:eq:gpt-4o"),
        ("filter", "status:eq:error"),
        ("limit", "50"),
    ]
    assert second.url.path == "/api/v1/metrics/overview"
    assert dict(second.url.params) == {"from": "2025-01-01T00:00:00Z", "bucket": "1h"}
    assert third.url.path == "/healthz"


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        HubClient("http://hub.test", "k", batch_size=0)
    with pytest.raises(ValueError, match="compression"):
        HubClient("http://hub.test", "k", compression="brotli")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base_url"):
        HubClient("hub.test", "k")


def test_a_transport_error_not_worth_retrying_is_a_client_error(sleeps: list[float]) -> None:
    def unsupported(request: httpx.Request) -> httpx.Response:
        raise httpx.UnsupportedProtocol("no such scheme", request=request)

    hub = make_client(Recorder(default=unsupported), sleeps)
    with hub, pytest.raises(HubClientError) as info:
        hub.health()
    assert (info.value.status, info.value.code) == (None, "transport_error")
    assert sleeps == []
