"""Print the OpenAPI document: ``python -m analytics_hub.server.openapi > schemas/openapi.json``.

The committed copy is checked against this output by a test, so that the published API
never drifts from the code.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from analytics_hub.server.app import create_app
from analytics_hub.settings import Settings


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the hub (built on a throw-away data directory)."""
    with tempfile.TemporaryDirectory() as tmp:
        # No gRPC listener: a throw-away app must not take (or fail on) port 4317.
        app = create_app(Settings(data_dir=Path(tmp), otlp_grpc_port=0, otlp_http_port=0))
        doc = app.openapi()

        # Entering the lifespan and leaving it closes the stores create_app opened.
        async def open_and_close() -> None:
            async with app.router.lifespan_context(app):
                pass

        asyncio.run(open_and_close())
        return doc


def render() -> str:
    """The document as committed: sorted keys, two-space indent, trailing newline."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
