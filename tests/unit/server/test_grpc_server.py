"""Where the gRPC listener binds, and what ``serve`` announces about it."""

from __future__ import annotations

import pytest

from analytics_hub.cli.serve_cmd import extra_listeners
from analytics_hub.server.grpc_server import listen_address
from analytics_hub.settings import Settings


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1:4317"),
        ("0.0.0.0", "0.0.0.0:4317"),
        ("::", "[::]:4317"),
        ("[::1]", "[::1]:4317"),
        ("localhost", "localhost:4317"),
    ],
)
def test_the_listen_address_brackets_ipv6_hosts(host: str, address: str) -> None:
    assert listen_address(host, 4317) == address


def test_serve_announces_the_listeners_that_are_on() -> None:
    on = Settings(otlp_grpc_port=4317, otlp_http_port=4318)
    assert extra_listeners("http://127.0.0.1:8080", on) == [
        "  gRPC (OTLP and analytics_hub.v1.IngestService): 127.0.0.1:4317",
        "  OTLP/HTTP: http://127.0.0.1:4318",
    ]
    assert extra_listeners("http://127.0.0.1:8080", Settings(otlp_grpc_port=0)) == []


def test_ports_are_validated() -> None:
    with pytest.raises(ValueError, match="otlp_grpc_port"):
        Settings(otlp_grpc_port=70000)
