"""The public batch API: request bodies in, a ``DecodedBatch`` out.

A body that is not JSON at all (or JSON but neither an object nor an array) raises
:class:`~analytics_hub.errors.DecodeError`. Problems of single events never raise: each
becomes an :class:`EventError` and the raw text of the event is kept for the dead-letter
store, while the valid events of the batch are kept.

Fast path: the whole body is decoded as ``list[Envelope]`` in one msgspec call. When
that fails (one bad event fails the call), the body is split into raw elements and each
is decoded alone, so that every bad event gets its own error.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import pyarrow as pa

from analytics_hub.errors import DecodeError
from analytics_hub.events.currency import RateTable
from analytics_hub.events.envelope import Envelope
from analytics_hub.events.limits import DEFAULT_LIMITS, Limits, check_limits
from analytics_hub.events.messages import from_validation_error, refine_tags
from analytics_hub.events.normalize import Rules, normalize_batch
from analytics_hub.events.timestamps import received_micros

TENANT_MESSAGE = (
    "the tenant comes from the credential (API key) that sends the event, never from "
    "the event body: remove the top-level tenant field"
)
_TENANT_KEYS = ("tenant_id", "tenant")
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class EventError:
    """One rejected event: its position in the body, the field path and why."""

    index: int
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class DecodedBatch:
    """The accepted events as rows of ``EVENT_SCHEMA`` and what was rejected."""

    table: pa.Table  # EVENT_SCHEMA, accepted events in input order
    errors: list[EventError]  # sorted by index
    rejected_raw: dict[int, str]  # raw JSON text of each rejected event (dead letters)
    total: int  # events seen

    @property
    def accepted(self) -> int:
        """Number of accepted events."""
        return int(self.table.num_rows)


_Outcome = Envelope | tuple[str, str]


class Normalizer:
    """Decodes, validates and normalises event batches for one hub configuration.

    ``currency_rates`` maps ISO 4217 codes to the USD value of one unit. Events more than
    ``max_future_skew_seconds`` ahead of their receipt are clamped to it; events older
    than ``max_age_seconds`` (the raw retention) are rejected. Thread-safe.
    """

    def __init__(
        self,
        *,
        currency_rates: Mapping[str, float],
        max_future_skew_seconds: float = 300,
        max_age_seconds: float = 30 * 86400,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        for name, value in (
            ("max_future_skew_seconds", max_future_skew_seconds),
            ("max_age_seconds", max_age_seconds),
        ):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        # What rebuilds an equal normaliser in another process (see ``__reduce__``).
        self._settings: dict[str, Any] = {
            "currency_rates": dict(currency_rates),
            "max_future_skew_seconds": max_future_skew_seconds,
            "max_age_seconds": max_age_seconds,
            "limits": limits,
        }
        self._rules = Rules(
            rates=RateTable(currency_rates),
            max_future_us=round(max_future_skew_seconds * 1_000_000),
            max_age_us=round(max_age_seconds * 1_000_000),
            limits=limits,
            tightened=check_limits(limits),
        )
        self._many = msgspec.json.Decoder(list[Envelope])
        self._one = msgspec.json.Decoder(Envelope)
        self._raws = msgspec.json.Decoder(list[msgspec.Raw])
        self._top = msgspec.json.Decoder(dict[str, msgspec.Raw])

    def __reduce__(self) -> tuple[Callable[..., Normalizer], tuple[dict[str, Any]]]:
        # Its decoders do not pickle; its settings do (a preparing process gets a copy).
        return _rebuilt, (self._settings,)

    @property
    def limits(self) -> Limits:
        """The limits this normaliser enforces."""
        return self._rules.limits

    def decode_json(self, body: bytes, *, tenant_id: str, received_at: dt.datetime) -> DecodedBatch:
        """Decode a body holding one JSON object or a JSON array of objects."""
        received_us = received_micros(received_at)
        text = _strip(body)
        if text[:1] == b"{":
            envs: list[Envelope] | None = None
            if b'"tenant' not in text:
                envs = self._try(self._one.decode, text)
            if envs is None:
                self._check_json(text)
                return self._per_element([text], range(1), tenant_id, received_us)
            return self._finish(envs, [text], tenant_id, received_us)
        if text[:1] != b"[":
            self._check_json(text)
            raise DecodeError("the body must be a JSON object or a JSON array of objects")
        if b'"tenant' not in text:
            many = self._try(self._many.decode, text)
            if many is not None:
                return self._finish(many, lambda: self._split(text), tenant_id, received_us)
        raws = self._split(text)
        return self._per_element(raws, range(len(raws)), tenant_id, received_us)

    def decode_ndjson(
        self, body: bytes, *, tenant_id: str, received_at: dt.datetime
    ) -> DecodedBatch:
        """Decode newline-delimited JSON, one event per line; blank lines are skipped.

        The index of an event is its ordinal among the non-blank lines. A line that is not
        JSON is a per-event error, unless no line is JSON at all.
        """
        received_us = received_micros(received_at)
        lines = [s for s in (line.strip() for line in _strip(body).split(b"\n")) if s]
        if not lines:
            raise DecodeError("the body holds no events (an empty NDJSON body)")
        if b'"tenant' not in body:
            envs = self._try(self._many.decode, b"[" + b",".join(lines) + b"]")
            # The count guards against a line that smuggles in several values.
            if envs is not None and len(envs) == len(lines):
                return self._finish(envs, lines, tenant_id, received_us)
        batch = self._per_element(lines, range(len(lines)), tenant_id, received_us)
        if len(batch.errors) == len(lines) and all(
            e.message.startswith("not valid JSON") for e in batch.errors
        ):
            raise DecodeError(f"the body is not NDJSON: line 1 {batch.errors[0].message}")
        return batch

    def normalize(
        self, envelopes: Sequence[Envelope], *, tenant_id: str, received_at: dt.datetime
    ) -> DecodedBatch:
        """Normalise envelopes built by another decoder (OTLP, gRPC).

        They go through JSON once so that they meet exactly the checks of a JSON body
        (msgspec validates while decoding, never when a struct is built in Python). An
        envelope that cannot even be encoded (a foreign object in custom data) is a
        per-event error like any other. An encoded ``Envelope`` has no top-level tenant
        field (the struct has none), so the body's scan for one is skipped: a custom
        attribute that merely mentions a tenant keeps the batch on the fast path.
        """
        try:
            body = msgspec.json.encode(list(envelopes))
        except (TypeError, ValueError, OverflowError):
            return self._normalize_one_by_one(envelopes, tenant_id, received_at)
        received_us = received_micros(received_at)
        many = self._try(self._many.decode, body)
        if many is not None:
            return self._finish(many, lambda: self._split(body), tenant_id, received_us)
        raws = self._split(body)
        return self._per_element(raws, range(len(raws)), tenant_id, received_us)

    def _normalize_one_by_one(
        self, envelopes: Sequence[Envelope], tenant_id: str, received_at: dt.datetime
    ) -> DecodedBatch:
        parts: list[bytes] = []
        unencodable: dict[int, str] = {}
        for i, envelope in enumerate(envelopes):
            try:
                parts.append(msgspec.json.encode(envelope))
            except (TypeError, ValueError, OverflowError) as exc:
                unencodable[i] = f"cannot be encoded as JSON: {exc}"
                parts.append(b"null")  # a placeholder that fails decoding at its index
        batch = self.decode_json(
            b"[" + b",".join(parts) + b"]", tenant_id=tenant_id, received_at=received_at
        )
        errors = [
            EventError(e.index, "", unencodable[e.index]) if e.index in unencodable else e
            for e in batch.errors
        ]
        return DecodedBatch(batch.table, errors, batch.rejected_raw, batch.total)

    # --- internals -------------------------------------------------------------------

    @staticmethod
    def _try(decode: Callable[[bytes], object], text: bytes) -> list[Envelope] | None:
        try:
            value = decode(text)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            return None  # msgspec.ValidationError is a DecodeError
        return value if isinstance(value, list) else [value]  # type: ignore[list-item]

    def _check_json(self, text: bytes) -> None:
        try:
            msgspec.json.decode(text)
        except msgspec.DecodeError as exc:
            raise DecodeError(f"the body is not valid JSON: {exc}") from None
        except UnicodeDecodeError as exc:
            raise DecodeError(f"the body is not valid UTF-8: {exc}") from None
        except RecursionError:
            raise DecodeError("the body nests too deeply to decode") from None

    def _split(self, text: bytes) -> list[bytes]:
        try:
            return [bytes(raw) for raw in self._raws.decode(text)]
        except msgspec.DecodeError as exc:
            raise DecodeError(f"the body is not valid JSON: {exc}") from None
        except RecursionError:
            raise DecodeError("the body nests too deeply to decode") from None

    def _decode_one(self, raw: bytes) -> _Outcome:
        if b'"tenant' in raw:
            try:
                top = self._top.decode(raw)
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                top = {}
            if any(k in top for k in _TENANT_KEYS):
                return "tenant_id", TENANT_MESSAGE
        try:
            return self._one.decode(raw)
        except msgspec.ValidationError as exc:
            problem = from_validation_error(exc)
            if problem[0].split(".", 1)[0] == "tags":
                return refine_tags(raw, problem, self._rules.limits)
            return problem
        except msgspec.DecodeError as exc:
            return "", f"not valid JSON: {exc}"
        except UnicodeDecodeError as exc:
            return "", f"not valid UTF-8: {exc}"
        except RecursionError:
            return "", "nested too deeply to decode"

    def _per_element(
        self, raws: Sequence[bytes], indices: range, tenant_id: str, received_us: int
    ) -> DecodedBatch:
        envs: list[Envelope] = []
        positions: list[int] = []
        errors: list[EventError] = []
        for index, raw in zip(indices, raws, strict=True):
            outcome = self._decode_one(raw)
            if isinstance(outcome, Envelope):
                envs.append(outcome)
                positions.append(index)
            else:
                errors.append(EventError(index, *outcome))
        return self._finish(envs, raws, tenant_id, received_us, positions, errors)

    def _finish(
        self,
        envs: list[Envelope],
        raws: Sequence[bytes] | Callable[[], Sequence[bytes]],
        tenant_id: str,
        received_us: int,
        positions: list[int] | None = None,
        errors: list[EventError] | None = None,
    ) -> DecodedBatch:
        errors = errors or []
        table, problems = normalize_batch(
            envs, self._rules, tenant_id=tenant_id, received_us=received_us
        )
        for pos, (field, message) in problems.items():
            errors.append(EventError(positions[pos] if positions else pos, field, message))
        errors.sort(key=lambda e: e.index)
        rejected: dict[int, str] = {}
        if errors:
            texts = raws() if callable(raws) else raws  # split lazily: only on rejections
            rejected = {e.index: texts[e.index].decode("utf-8", "replace") for e in errors}
        total = len(envs) + (len(errors) - len(problems))
        return DecodedBatch(table=table, errors=errors, rejected_raw=rejected, total=total)


def _strip(body: bytes) -> bytes:
    text = body.strip()
    if text.startswith(_BOM):
        text = text[len(_BOM) :].strip()
    if not text:
        raise DecodeError("the body is empty: send a JSON object or an array of objects")
    return text


def _rebuilt(settings: dict[str, Any]) -> Normalizer:
    return Normalizer(**settings)


__all__ = ["TENANT_MESSAGE", "DecodedBatch", "EventError", "Normalizer"]
