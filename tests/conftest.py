"""Shared test configuration: service requirements and the tiers' rules."""

from __future__ import annotations

import os
import socket

import pytest

REQUIRE_SERVICES = os.environ.get("HUB_REQUIRE_SERVICES") == "1"


def service_available(host: str, port: int) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int, how_to_start: str) -> None:
    """Skip (locally) or fail (with HUB_REQUIRE_SERVICES=1) when a service is down."""
    if service_available(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}; start it with: {how_to_start}"
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)
