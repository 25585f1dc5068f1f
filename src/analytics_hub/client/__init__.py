"""A small Python client for the hub's HTTP API, blocking and asyncio.

::

    from analytics_hub.client import HubClient

    with HubClient("http://127.0.0.1:8080", api_key) as hub:
        report = hub.send(events)          # batched, compressed, retried
        print(report.accepted, report.rejected, report.errors[:3])

Both clients share one implementation (:mod:`analytics_hub.client.core`): they differ only
in how they perform the I/O the core asks for. See ``docs/client.md``.
"""

from analytics_hub.client.async_client import AsyncHubClient
from analytics_hub.client.errors import HubClientError, HubRetryExhaustedError
from analytics_hub.client.report import IngestError, IngestReport
from analytics_hub.client.sync_client import HubClient

__all__ = [
    "AsyncHubClient",
    "HubClient",
    "HubClientError",
    "HubRetryExhaustedError",
    "IngestError",
    "IngestReport",
]
