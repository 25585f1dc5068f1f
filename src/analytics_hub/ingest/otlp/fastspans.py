"""The span mapping's hot path: the lean spans (see :mod:`.lean`) of a scope to envelopes.

It gives exactly the envelopes of :func:`~analytics_hub.ingest.otlp.spans.map_span` (the
reference, which reads the generated classes) at a fraction of the cost: attributes are
decoded from their bytes, and only those named by a convention or the asset option
(:mod:`.rawattrs`); the ``llm_call`` follows the conventions from them
(:mod:`.fastcalls`); event ids are formatted for the whole request at once. Wherever the
reference would reject a span, or a span is not in the usual shape (bad ids or times,
too many attributes, odd values), the fast path gives up on that span and the reference
maps it, deciding and wording every rejection.
``tests/unit/ingest/otlp/test_fastspans.py`` holds the two to the same results.

The loop over a scope's spans is one function with everything it uses in locals: per
span, each Python call and attribute lookup saved is a measurable share (counted with
callgrind: ``bench/otlp_mapping.py`` has the figures).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

from analytics_hub.events import CustomData, CustomPayload, Envelope, TelemetryPayload
from analytics_hub.events.envelope import SeverityName
from analytics_hub.ingest.otlp import conventions as c
from analytics_hub.ingest.otlp.fastcalls import CONVENTION_KEYS, GENAI_OPERATION, ROLE, Plan
from analytics_hub.ingest.otlp.fastcalls import llm_call as call_of
from analytics_hub.ingest.otlp.ids import SPAN_ID_BYTES, TRACE_ID_BYTES, uuid_text, uuid_texts
from analytics_hub.ingest.otlp.mapped import Mapped
from analytics_hub.ingest.otlp.options import OtlpOptions
from analytics_hub.ingest.otlp.rawattrs import ABSENT, Fallback, Found, Reader, text

CONTEXT_SPAN_TYPE = "otel_span"
# Below this a nanosecond time is unset or before 1973-03-03: outside any retention, and
# the envelope would read such a small number in a coarser unit.
MIN_TIME_UNIX_NANO = 10**17
SPAN_KINDS = {
    0: "unspecified",
    1: "internal",
    2: "server",
    3: "client",
    4: "producer",
    5: "consumer",
}
STATUS_CODES = {0: "unset", 1: "ok", 2: "error"}
_ERROR = 2  # Status.STATUS_CODE_ERROR
_NO_TRACE = bytes(TRACE_ID_BYTES)
_NO_SPAN = bytes(SPAN_ID_BYTES)
# What ids.span_event_id hashes, with the lengths of valid ids already in place.
_BEFORE_TRACE = b"otlp-span" + TRACE_ID_BYTES.to_bytes(4, "big")
_BEFORE_SPAN = SPAN_ID_BYTES.to_bytes(4, "big")
_OPERATION = GENAI_OPERATION[0]
_PLANS = 4096  # distinct attribute key sets remembered (instrumentations repeat theirs)


def span_event_id(trace_id: bytes, span_id: bytes) -> str:
    """``ids.span_event_id`` of a valid trace id and span id, in one hash call."""
    digest = blake2b(_BEFORE_TRACE + trace_id + _BEFORE_SPAN + span_id, digest_size=16)
    return uuid_text(digest.hexdigest())


@dataclass(slots=True)
class RequestState:
    """What the mapping of one request keeps across its scopes."""

    out: Mapped
    rejected: Mapping[int, tuple[str, str]] | None  # spans the decoder rejected
    parents: dict[bytes, str] = field(default_factory=dict)  # parent event ids derived
    envelopes: list[Envelope] = field(default_factory=list)  # fast ones, without event id
    digests: list[bytes] = field(default_factory=list)  # their event ids' digests

    def set_event_ids(self) -> None:
        """Give the fast path's envelopes their event ids, formatted all at once."""
        for envelope, event_id in zip(self.envelopes, uuid_texts(self.digests), strict=True):
            envelope.event_id = event_id


@dataclass(frozen=True, slots=True)
class Scope:
    """What the spans of one scope share."""

    environment: str
    resource_asset: str | None  # the resource's asset attribute (the span's comes second)
    tags: dict[str, str]


class SpanMapper:
    """Maps lean spans under one set of options (one per options: see spans._mapper)."""

    def __init__(self, options: OtlpOptions, exception_type: Callable[[Any], str | None]) -> None:
        self._exception_type = exception_type  # spans.exception_type: the reference
        self._source = options.source_module
        self._keep_context = options.keep_context_spans
        self._max = options.max_attributes
        self._asset = (options.asset_attribute.encode(),)
        self._reader = Reader(CONVENTION_KEYS | set(self._asset))
        self._plans: dict[tuple[bytes, ...], Plan] = {}

    def map_scope(
        self,
        lean_spans: Sequence[Any],
        real_spans: Any,
        first: int,
        scope: Scope,
        state: RequestState,
        reference: Callable[[int, int], None],
    ) -> None:
        """Map the spans of one scope into ``state.out``: ``lean_spans[j]`` is item
        ``first + j`` and ``real_spans[j]`` the same span in the real message (read for
        the exception events of a failed call: rare). ``reference(i, j)`` maps item ``i``
        the reference way, for the spans the fast path leaves to it."""
        out, rejected, parents = state.out, state.rejected, state.parents
        envelopes, positions = out.envelopes, out.positions
        fast_envelopes, digests = state.envelopes, state.digests
        environment, resource_asset, tags = scope.environment, scope.resource_asset, scope.tags
        source, keep_context, max_attributes = self._source, self._keep_context, self._max
        memo_get, decode, plans = self._reader.memo.get, self._reader.read, self._plans
        for j, span in enumerate(lean_spans):
            i = first + j
            if rejected and i in rejected:
                reference(i, j)
                continue
            try:
                # A slice, not an iteration: the runtime's containers end an iteration
                # with an IndexError, which costs more than the whole slice (counted).
                raws = span.attributes[:]
                if len(raws) > max_attributes or len(span.events) > max_attributes:
                    raise Fallback
                trace, span_id, parent = span.trace_id, span.span_id, span.parent_span_id
                if len(trace) != TRACE_ID_BYTES or trace == _NO_TRACE:
                    raise Fallback
                if len(span_id) != SPAN_ID_BYTES or span_id == _NO_SPAN:
                    raise Fallback
                parent_event_id = parent_id = None
                if parent and parent != _NO_SPAN:
                    if len(parent) != SPAN_ID_BYTES:
                        raise Fallback  # all zeros (no parent) or an error
                    key = trace + parent
                    parent_event_id = parents.get(key)
                    if parent_event_id is None:
                        parent_event_id = parents[key] = span_event_id(trace, parent)
                    parent_id = parent.hex()
                start, end = span.start_time_unix_nano, span.end_time_unix_nano
                if start < MIN_TIME_UNIX_NANO or end < start:
                    raise Fallback
                latency_ms = (end - start) / 1_000_000
                try:
                    # Every encoding seen before: the runtime's loops only. One not yet
                    # seen makes a None, which dict() refuses: then the Reader decodes.
                    found: Found = dict(map(memo_get, raws))  # type: ignore[arg-type]
                except TypeError:
                    found = decode(raws)
                keys = tuple(found)
                plan = plans.get(keys)
                if plan is None:
                    if len(plans) >= _PLANS:
                        plans.clear()
                    plan = plans[keys] = Plan(found)
                found[ABSENT] = None  # what Plan.first gives for a field no key is present for
                status = span.status
                failed = status.code == _ERROR
                operation = found.get(_OPERATION)
                if type(operation) is str:  # GenAI semantic conventions: the operation decides
                    operation = c.GENAI_MODEL_OPERATIONS.get(operation.strip().lower())
                else:
                    operation = plan.operation(found)
                payload: TelemetryPayload | CustomPayload
                severity: SeverityName
                if operation is not None:
                    exception_type = self._exception_type(real_spans[j]) if failed else None
                    call = call_of(found, plan, operation, latency_ms, failed, exception_type)
                    payload = TelemetryPayload(data=call)
                    severity = "error" if call.status == "error" else "info"
                elif keep_context:
                    data = _context(span, status, parent_id, latency_ms, found)
                    payload = CustomPayload(
                        data=CustomData(custom_type=CONTEXT_SPAN_TYPE, data=data)
                    )
                    severity = "error" if failed else "info"
                else:
                    out.dropped += 1
                    continue
                envelope = Envelope(
                    timestamp=start,
                    source_module=source,
                    event_type="telemetry" if operation is not None else "custom",
                    severity=severity,
                    environment=environment,
                    asset_id=resource_asset or text(found, self._asset),
                    parent_event_id=parent_event_id,
                    trace_id=trace.hex(),
                    span_id=span_id.hex(),
                    tags=tags,
                    payload=payload,
                )
            except Fallback:
                reference(i, j)  # it decides, and words any rejection
                continue
            envelopes.append(envelope)
            positions.append(i)
            # Its event id (ids.span_event_id, in one hash call) is set with the others'.
            fast_envelopes.append(envelope)
            digests.append(
                blake2b(_BEFORE_TRACE + trace + _BEFORE_SPAN + span_id, digest_size=16).digest()
            )


def _context(
    span: Any, status: Any, parent_id: str | None, latency_ms: float, found: Found
) -> dict[str, Any]:
    # The keys in the reference's order: the stored payload JSON is the same text.
    data: dict[str, Any] = {
        "name": span.name,
        "kind": SPAN_KINDS.get(span.kind, "unspecified"),
        "duration_ms": latency_ms,
        "status": STATUS_CODES.get(status.code, "unset"),
    }
    if parent_id is not None:
        data["parent_span_id"] = parent_id
    message = status.message
    if message:
        data["status_message"] = message
    role = text(found, ROLE)
    if role is not None:
        data["role"] = role
    return data


__all__ = [
    "CONTEXT_SPAN_TYPE",
    "MIN_TIME_UNIX_NANO",
    "SPAN_KINDS",
    "STATUS_CODES",
    "RequestState",
    "Scope",
    "SpanMapper",
    "span_event_id",
]
