"""gRPC: the OTLP collector services and the hub's native ingest service.

Adapters only, as the HTTP API: credentials from call metadata (:mod:`.credentials`),
errors to status codes (:mod:`.status`), requests parsed from raw bytes (:mod:`.calls`),
the OTLP services (:mod:`.otlp`) and ``analytics_hub.v1.IngestService`` (:mod:`.ingest`,
stubs generated into :mod:`.v1` by :mod:`.generate`). The server that hosts them is
started by the assembly (``analytics_hub.server.grpc_server``).
"""

from __future__ import annotations

import grpc

from analytics_hub.api.grpc.credentials import KeyVerifier
from analytics_hub.api.grpc.ingest import BatchStore, IngestServicer
from analytics_hub.api.grpc.otlp import OtlpServicer
from analytics_hub.ingest.otlp import OtlpReceiver
from analytics_hub.ingest.otlp.metric_receiver import OtlpMetricsReceiver


def grpc_handlers(
    keys: KeyVerifier, otlp: OtlpReceiver, metrics: OtlpMetricsReceiver, batches: BatchStore
) -> tuple[grpc.GenericRpcHandler, ...]:
    """Every service the hub serves over gRPC, for ``server.add_generic_rpc_handlers``."""
    return (
        *OtlpServicer(keys, otlp, metrics).handlers(),
        IngestServicer(keys, batches).handler(),
    )


__all__ = ["grpc_handlers"]
