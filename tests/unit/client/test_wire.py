from __future__ import annotations

import random

import httpx

from analytics_hub.client.core import ClientCore
from analytics_hub.client.wire import retry_after_seconds


def answer(**headers: str) -> httpx.Response:
    return httpx.Response(429, headers=headers)


def test_retry_after_accepts_seconds_and_dates() -> None:
    assert retry_after_seconds(answer(**{"Retry-After": "3"}), now=0) == 3.0
    assert retry_after_seconds(answer(**{"Retry-After": " 1.5 "}), now=0) == 1.5
    # without a Date header the local clock is the reference
    date = "Thu, 01 Jan 1970 00:00:10 GMT"
    assert retry_after_seconds(answer(**{"Retry-After": date}), now=4.0) == 6.0


def test_retry_after_in_the_past_or_garbled() -> None:
    assert retry_after_seconds(answer(**{"Retry-After": "-5"}), now=0) == 0.0
    assert retry_after_seconds(answer(**{"Retry-After": "soon"}), now=0) is None
    assert retry_after_seconds(answer(**{"Retry-After": "nan"}), now=0) is None
    assert retry_after_seconds(answer(), now=0) is None


def test_a_huge_retry_after_is_capped() -> None:
    core = ClientCore("http://h", "k", rng=random.Random(1))
    delay = core.delay(0, answer(**{"Retry-After": "86400"}))
    assert 300.0 <= delay <= 330.0


def test_retry_after_is_ignored_on_gateway_errors() -> None:
    core = ClientCore("http://h", "k", backoff_base=0.2, rng=random.Random(1))
    delay = core.delay(0, httpx.Response(502, headers={"Retry-After": "60"}))
    assert delay <= 0.2
