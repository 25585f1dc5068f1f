"""A scripted fake HTTP peer for the client tests (httpx.MockTransport)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import zstandard


def decoded_body(request: httpx.Request) -> Any:
    """The JSON a request carried, undoing its Content-Encoding."""
    raw = request.content
    encoding = request.headers.get("content-encoding")
    if encoding == "gzip":
        raw = gzip.decompress(raw)
    elif encoding == "zstd":
        raw = zstandard.ZstdDecompressor().decompress(raw)
    return json.loads(raw)


def accept_all(request: httpx.Request) -> httpx.Response:
    """Answer an ingest like the hub does when every event is valid."""
    events = decoded_body(request)
    return httpx.Response(202, json={"accepted": len(events), "rejected": 0, "errors": []})


def envelope(
    status: int, code: str, message: str, details: object = None, **headers: str
) -> httpx.Response:
    return httpx.Response(
        status,
        json={"error": {"code": code, "message": message, "details": details}},
        headers=headers,
    )


class Recorder:
    """Records the requests it sees and answers from a script, then with ``default``."""

    def __init__(
        self,
        *script: httpx.Response | Exception,
        default: Callable[[httpx.Request], httpx.Response] = accept_all,
    ) -> None:
        self.script = list(script)
        self.default = default
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            item = self.script.pop(0)
            if isinstance(item, Exception):
                raise item
            return item
        return self.default(request)


@pytest.fixture
def sleeps() -> list[float]:
    return []
