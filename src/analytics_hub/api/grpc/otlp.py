"""OTLP/gRPC: the collector's ``TraceService``, ``LogsService`` and ``MetricsService``.

Services, methods and messages are those of the stubs in ``opentelemetry-proto``; the
handlers are registered here (see :mod:`.calls`) so that a request arrives as bytes.
The bytes go to the same receiver path as an OTLP/HTTP protobuf body
(``OtlpReceiver.export_traces``, ``OtlpMetricsReceiver.export_metrics``): parsed and
mapped in a worker thread rather than on the event loop, with the same limits and the
same per-item errors, reported in the response's ``partial_success``.
"""

from __future__ import annotations

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from analytics_hub.api.grpc.calls import unary
from analytics_hub.api.grpc.credentials import KeyVerifier, caller
from analytics_hub.api.grpc.status import CallContext
from analytics_hub.auth.keys import Role
from analytics_hub.ingest.otlp import OtlpEncoding, OtlpReceiver
from analytics_hub.ingest.otlp.metric_receiver import OtlpMetricsReceiver


def _service(module: object, name: str) -> str:
    """The full name of a service, from its descriptor (no hand-typed strings)."""
    descriptor = module.DESCRIPTOR  # type: ignore[attr-defined]
    return str(descriptor.services_by_name[name].full_name)


TRACE_SERVICE = _service(trace_service_pb2, "TraceService")
LOGS_SERVICE = _service(logs_service_pb2, "LogsService")
METRICS_SERVICE = _service(metrics_service_pb2, "MetricsService")


class OtlpServicer:
    """The three OTLP collector services: spans and log records stored through an
    ``OtlpReceiver``, metric data points through an ``OtlpMetricsReceiver``."""

    def __init__(
        self, keys: KeyVerifier, receiver: OtlpReceiver, metrics: OtlpMetricsReceiver
    ) -> None:
        self._keys = keys
        self._receiver = receiver
        self._metrics = metrics

    async def export_traces(
        self, raw: bytes, context: CallContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        """``TraceService/Export``: store the spans; rejected ones in ``partial_success``."""
        tenant = caller(self._keys, context.invocation_metadata(), Role.INGEST).tenant_id
        outcome = await self._receiver.export_traces(tenant, raw, OtlpEncoding.PROTOBUF)
        response = trace_service_pb2.ExportTraceServiceResponse()
        if outcome.rejected:
            response.partial_success.rejected_spans = outcome.rejected
            response.partial_success.error_message = outcome.error_message("spans")
        return response

    async def export_logs(
        self, raw: bytes, context: CallContext
    ) -> logs_service_pb2.ExportLogsServiceResponse:
        """``LogsService/Export``: store the log records; rejected ones in
        ``partial_success``."""
        tenant = caller(self._keys, context.invocation_metadata(), Role.INGEST).tenant_id
        outcome = await self._receiver.export_logs(tenant, raw, OtlpEncoding.PROTOBUF)
        response = logs_service_pb2.ExportLogsServiceResponse()
        if outcome.rejected:
            response.partial_success.rejected_log_records = outcome.rejected
            response.partial_success.error_message = outcome.error_message("log records")
        return response

    async def export_metrics(
        self, raw: bytes, context: CallContext
    ) -> metrics_service_pb2.ExportMetricsServiceResponse:
        """``MetricsService/Export``: store the data points; rejected ones in
        ``partial_success``."""
        tenant = caller(self._keys, context.invocation_metadata(), Role.INGEST).tenant_id
        outcome = await self._metrics.export_metrics(tenant, raw, OtlpEncoding.PROTOBUF)
        response = metrics_service_pb2.ExportMetricsServiceResponse()
        if outcome.rejected:
            response.partial_success.rejected_data_points = outcome.rejected
            response.partial_success.error_message = outcome.error_message("data points")
        return response

    def handlers(self) -> tuple[grpc.GenericRpcHandler, ...]:
        """The generic handlers of the three services, for ``server.add_generic_rpc_handlers``."""
        return (
            grpc.method_handlers_generic_handler(
                TRACE_SERVICE, {"Export": unary(self.export_traces)}
            ),
            grpc.method_handlers_generic_handler(LOGS_SERVICE, {"Export": unary(self.export_logs)}),
            grpc.method_handlers_generic_handler(
                METRICS_SERVICE, {"Export": unary(self.export_metrics)}
            ),
        )


__all__ = [
    "LOGS_SERVICE",
    "METRICS_SERVICE",
    "TRACE_SERVICE",
    "OtlpServicer",
]
