"""The demo traffic generator: pure, seeded, reproducible.

Time is cut into minutes. The events of a minute are drawn from a ``random.Random``
seeded with (seed, stream, tenant, minute), so they depend only on *which* minute it is,
never on when the window around it starts: two backfills that overlap produce the same
events (same ``event_id``) in the overlap, and a re-sent backfill is deduplicated by the
hub. Calendar and incident events are seeded without the stream, so backfill and live
traffic agree on them too.

Each model call may bring companions: a CostOps ``token_cost`` for a sample of calls,
and now and then a Sentinel threat, a policy-engine denial or a gateway auth record.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from analytics_hub.demo.catalog import DEFAULT_TENANTS, MODELS, TENANTS_BY_NAME, TenantSpec
from analytics_hub.demo.envelopes import (
    Event,
    auth,
    policy_violation,
    rfc3339,
    threat,
    token_cost,
)
from analytics_hub.demo.incidents import Incident, IncidentPlan, describe_incidents
from analytics_hub.demo.schedule import Schedule
from analytics_hub.demo.traffic import (
    model_call,
    pick_app,
    pick_user,
    poisson,
    seasonality,
    weighted,
)

TOKEN_COST_SHARE = 0.10  # calls CostOps also reports (the rest are priced from the call)
UNPRICED_SHARE = 0.10  # calls sent without cost_usd, for the hub's price table to fill in
THREAT_RATE = 0.012
VIOLATION_RATE = 0.006
AUTH_RATE = 0.004
# Events per model call on average, so that ``rate_per_s`` counts all events.
EVENTS_PER_CALL = 1.0 + TOKEN_COST_SHARE + THREAT_RATE + VIOLATION_RATE + AUTH_RATE
# Events are never earlier than the minute that generates them, and companions land at
# most ~65 s after it: a window [lo, hi) needs the minutes from lo - LOOKBACK_S on.
LOOKBACK_S = 120.0

THREATS = (
    (
        "prompt_injection",
        0.55,
        "user prompt overrides system instructions",
        "pattern:ignore_previous_instructions",
    ),
    ("malicious_input", 0.20, "encoded payload in user input", "pattern:base64_blob"),
    (
        "data_exfiltration",
        0.12,
        "prompt asks for the system prompt or secrets",
        "pattern:reveal_system_prompt",
    ),
    ("unauthorized_access", 0.08, "API key used from an unexpected network", "anomaly:new_asn"),
    ("model_poisoning", 0.02, "feedback flood with contradictory labels", "anomaly:feedback_rate"),
    ("other", 0.03, "anomalous usage pattern", "anomaly:usage_shape"),
)
LEVELS = (("low", 0.4), ("medium", 0.35), ("high", 0.2), ("critical", 0.05))
MITIGATIONS = (("blocked", 0.55), ("detected", 0.35), ("mitigated", 0.10))
POLICIES = (
    (
        "pol-pii-001",
        "PII in prompt",
        "Prompt contained an email address or phone number",
        ("pii.email", "pii.phone"),
    ),
    (
        "pol-sec-003",
        "Secrets in prompt",
        "Prompt contained what looks like an API key",
        ("secrets.api_key",),
    ),
    (
        "pol-use-004",
        "Restricted topic",
        "Request asked for individual medical advice",
        ("content.medical_advice",),
    ),
    (
        "pol-cost-005",
        "Context size limit",
        "Prompt exceeded the application's context budget",
        ("limits.max_input_tokens",),
    ),
)


class DemoGenerator:
    """Realistic, reproducible demo events for several tenants.

    ``rate_per_s`` is the mean rate of live events over a week (the daily and weekly
    curves move it around that mean); ``backfill_rate_per_s`` the same for history,
    about 50 k events per seven days by default. ``start`` fixes the moment the incidents
    are scheduled from; by default it is the start of the first backfill (or the first
    live tick). Tenants are :class:`TenantSpec` values or the names of built-in ones.

    Events carry no tenant (the hub takes it from the API key): ask for one tenant's
    events with ``tenant=`` and send them with that tenant's key.
    """

    def __init__(
        self,
        seed: int,
        *,
        tenants: Sequence[TenantSpec | str] = DEFAULT_TENANTS,
        rate_per_s: float = 5.0,
        backfill_rate_per_s: float = 0.08,
        start: datetime | None = None,
    ) -> None:
        if rate_per_s <= 0 or backfill_rate_per_s <= 0:
            raise ValueError("rates must be positive")
        specs = [_tenant(t) for t in tenants]
        if not specs or len({t.name for t in specs}) != len(specs):
            raise ValueError("give at least one tenant, each once")
        total = sum(t.share for t in specs)
        self.seed = seed
        self.rate_per_s = rate_per_s
        self.backfill_rate_per_s = backfill_rate_per_s
        self._tenants = {t.name: t for t in specs}
        self._share = {t.name: t.share / total for t in specs}
        self._start: datetime | None = None
        self._plan: IncidentPlan | None = None
        self._schedules: dict[str, Schedule] = {}
        self._cursor: dict[str | None, float] = {}
        self._live_cache: dict[tuple[str, int], list[Event]] = {}
        if start is not None:
            self._anchor(start)

    @property
    def tenant_names(self) -> tuple[str, ...]:
        """The tenants this generator produces events for."""
        return tuple(self._tenants)

    @property
    def start(self) -> datetime | None:
        """The moment incidents are scheduled from (None until the first call)."""
        return self._start

    def incidents(self) -> list[Incident]:
        """The injected incidents of this generator's tenants (empty before a start is set)."""
        if self._start is None:
            return []
        return [i for i in describe_incidents(self._start) if i.tenant in self._tenants]

    def backfill(
        self, start: datetime, end: datetime, *, tenant: str | None = None
    ) -> Iterator[Event]:
        """History in ``[start, end)``, in time order, one hour in memory at a time.

        Live ticks of the same tenant selection continue from ``end``.
        """
        _aware(start, "start")
        _aware(end, "end")
        if end <= start:
            raise ValueError("end must be after start")
        names = self._select(tenant)
        self._anchor(start)
        for key in (tenant, *names):
            self._cursor[key] = end.timestamp()
        return self._backfill(start.timestamp(), end.timestamp(), names)

    def live(self, now: datetime, *, tenant: str | None = None) -> list[Event]:
        """The events since the previous tick (or the end of the backfill) up to ``now``.

        The first tick without a backfill covers the second before ``now``. Use either
        ``tenant=None`` or per-tenant ticks, not both: they keep separate positions.
        """
        _aware(now, "now")
        names = self._select(tenant)
        until = now.timestamp()
        since = self._cursor.get(tenant, until - 1.0)
        self._anchor(datetime.fromtimestamp(since, now.tzinfo))
        if until <= since:
            return []
        self._cursor[tenant] = until
        events = [e for name in names for e in self._between(name, "live", since, until)]
        events.sort(key=_timestamp)
        oldest = int((since - LOOKBACK_S) // 60) - 1
        for key in [k for k in self._live_cache if k[1] < oldest]:
            del self._live_cache[key]
        return events

    # -- internals ----------------------------------------------------------------------

    def _select(self, tenant: str | None) -> list[str]:
        if tenant is None:
            return list(self._tenants)
        if tenant not in self._tenants:
            raise ValueError(f"unknown tenant {tenant!r}; this generator has {self.tenant_names}")
        return [tenant]

    def _anchor(self, start: datetime) -> None:
        if self._start is not None:
            return
        self._start = start
        self._plan = IncidentPlan(self.seed, start)
        self._schedules = {n: Schedule(self.seed, t, start) for n, t in self._tenants.items()}

    def _backfill(self, lo: float, hi: float, names: list[str]) -> Iterator[Event]:
        hour = lo // 3600 * 3600
        while hour < hi:
            a, b = max(hour, lo), min(hour + 3600, hi)
            batch = [e for name in names for e in self._between(name, "backfill", a, b)]
            batch.sort(key=_timestamp)
            yield from batch
            hour += 3600

    def _between(self, name: str, stream: str, lo: float, hi: float) -> list[Event]:
        """Events of one tenant with a timestamp in ``[lo, hi)``."""
        # Compared as text: the rendered timestamps are fixed-width RFC 3339, so text order
        # is time order, and millisecond truncation cannot put an event in two windows.
        first, last = rfc3339(lo), rfc3339(hi)
        out: list[Event] = []
        minute = (lo - LOOKBACK_S) // 60 * 60
        while minute < hi:
            for event in self._minute(name, stream, minute):
                if first <= event["timestamp"] < last:
                    out.append(event)
            minute += 60
        return out

    def _minute(self, name: str, stream: str, minute: float) -> list[Event]:
        key = (name, int(minute // 60))
        if stream == "live" and key in self._live_cache:
            return self._live_cache[key]
        rate = self.rate_per_s if stream == "live" else self.backfill_rate_per_s
        events = self._traffic(name, stream, rate, minute)
        events.extend(self._schedules[name].events(minute))
        assert self._plan is not None  # set with the schedules
        events.extend(self._plan.events(name, minute))
        if stream == "live":
            self._live_cache[key] = events
        return events

    def _traffic(self, name: str, stream: str, rate: float, minute: float) -> list[Event]:
        tenant = self._tenants[name]
        rng = random.Random(f"{self.seed}/{stream}/{name}/{int(minute)}")
        mean = rate * self._share[name] * 60.0 * seasonality(minute + 30.0, tenant.utc_offset_hours)
        out: list[Event] = []
        assert self._plan is not None
        for _ in range(poisson(rng, mean / EVENTS_PER_CALL)):
            ts = minute + rng.random() * 60.0
            app = pick_app(rng, tenant)
            route = weighted(rng, tuple((r, r.weight) for r in app.routes))
            model_id, factor = self._plan.call_overrides(name, app.asset_id, route.model_id, ts)
            version = self._plan.app_version(name, app.asset_id, ts)
            if version is not None:
                app = replace(app, version=version)
            call = model_call(
                rng,
                tenant,
                app,
                ts,
                user_id=pick_user(rng, tenant),
                route=route,
                model_id=model_id,
                latency_factor=factor,
                price=rng.random() >= UNPRICED_SHARE,
            )
            out.append(call)
            out.extend(self._companions(rng, tenant, call, ts))
        return out

    def _companions(
        self, rng: random.Random, tenant: TenantSpec, call: Event, ts: float
    ) -> list[Event]:
        data = call["payload"]["data"]
        asset = call["asset_id"]
        out: list[Event] = []
        if rng.random() < TOKEN_COST_SHARE and data["status"] == "ok" and "cost_usd" in data:
            model = MODELS[data["model_id"]]
            done = ts + data["latency_ms"] / 1000.0 + rng.uniform(0.5, 3.0)
            out.append(
                token_cost(
                    rng,
                    done,
                    call,
                    input_per_mtok=model.input_per_mtok,
                    output_per_mtok=model.output_per_mtok,
                )
            )
        if rng.random() < THREAT_RATE:
            kind, _, vector, indicator = weighted(rng, tuple((t, t[1]) for t in THREATS))
            out.append(
                threat(
                    rng,
                    ts + rng.uniform(0.01, 0.5),
                    asset_id=asset,
                    threat_type=kind,
                    level=weighted(rng, LEVELS),
                    mitigation=weighted(rng, MITIGATIONS),
                    target=f"{asset}/{data['model_id']}",
                    attack_vector=vector,
                    indicators=[indicator],
                    source_ip=f"203.0.113.{rng.randrange(1, 255)}",
                    parent=call,
                    environment=call["environment"],
                )
            )
        if rng.random() < VIOLATION_RATE:
            severity = weighted(rng, (("low", 0.3), ("medium", 0.5), ("high", 0.2)))
            out.append(
                policy_violation(
                    rng,
                    ts + rng.uniform(0.01, 0.3),
                    asset_id=asset,
                    policy=rng.choice(POLICIES),
                    user_id=data["user_id"],
                    severity=severity,
                    auto_remediated=rng.random() < 0.4,
                    parent=call,
                )
            )
        if rng.random() < AUTH_RATE:
            action, ok, reason = rng.choice(
                (
                    ("access_attempt", True, None),
                    ("permission_denied", False, "role lacks access to this model"),
                    ("token_generated", True, None),
                )
            )
            out.append(
                auth(
                    rng,
                    ts,
                    asset_id=asset,
                    user_id=data["user_id"],
                    action=action,
                    success=ok,
                    failure_reason=reason,
                )
            )
        return out


def _tenant(value: TenantSpec | str) -> TenantSpec:
    if isinstance(value, TenantSpec):
        return value
    try:
        return TENANTS_BY_NAME[value]
    except KeyError:
        raise ValueError(f"unknown tenant {value!r}; built-in: {sorted(TENANTS_BY_NAME)}") from None


def _aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC)")


def _timestamp(event: Event) -> str:
    return str(event["timestamp"])


def default_window(now: datetime, days: float = 7.0) -> tuple[datetime, datetime]:
    """A backfill window ending at ``now``, starting ``days`` earlier on the hour.

    Aligning the start makes re-runs within the hour schedule the same incidents and
    produce the same events (the hub deduplicates them).
    """
    start = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return start, now


__all__ = ["DemoGenerator", "default_window"]
