"""OTLP ingestion: OpenTelemetry traces and logs as hub events.

Pure mapping, no HTTP: :mod:`.wire` decodes OTLP/HTTP bodies (protobuf or OTLP/JSON),
:func:`map_traces` and :func:`map_logs` turn export requests into envelopes plus
per-item errors (reusable by an OTLP/gRPC servicer, which gets messages already parsed),
and :class:`OtlpReceiver` normalises and stores them through the ingest service.
"""

from analytics_hub.ingest.otlp.logs import LOG_TYPE, map_logs, severity_of
from analytics_hub.ingest.otlp.mapped import Mapped
from analytics_hub.ingest.otlp.options import DEFAULT_OPTIONS, OtlpOptions
from analytics_hub.ingest.otlp.prepare import Prepared, Signal, merge, prepare
from analytics_hub.ingest.otlp.processes import PreparingObserver, PreparingProcesses
from analytics_hub.ingest.otlp.receiver import ExportOutcome, OtlpReceiver
from analytics_hub.ingest.otlp.spans import CONTEXT_SPAN_TYPE, map_traces
from analytics_hub.ingest.otlp.wire import (
    OtlpEncoding,
    SignalName,
    decode_logs,
    decode_traces,
    export_response,
    otlp_encoding,
)

__all__ = [
    "CONTEXT_SPAN_TYPE",
    "DEFAULT_OPTIONS",
    "LOG_TYPE",
    "ExportOutcome",
    "Mapped",
    "OtlpEncoding",
    "OtlpOptions",
    "OtlpReceiver",
    "Prepared",
    "PreparingObserver",
    "PreparingProcesses",
    "Signal",
    "SignalName",
    "decode_logs",
    "decode_traces",
    "export_response",
    "map_logs",
    "map_traces",
    "merge",
    "otlp_encoding",
    "prepare",
    "severity_of",
]
