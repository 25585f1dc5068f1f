"""The three incidents the demo injects, at fixed offsets from the generator's start.

With the default seven-day backfill (start = now - 7 days, aligned to the hour) all three
fall inside the history:

- **Latency regression** — ``start + 4 d 10 h``: acme publishes ``code-assistant`` 2.4.0,
  which moves from ``claude-3-5-sonnet-20240620`` to ``claude-3-5-sonnet-20241022``; from
  then on (and in live traffic) that asset's latency and time to first token are ~2.5×.
- **Cost spike** — ``start + 5 d 14 h`` for 2 h: one globex user (``globex-u7781``, one
  session per half hour) sends ~110 k-token prompts to ``gpt-4o`` through ``support-bot``
  several times a minute; Sentinel reports ``denial_of_service`` threats (detected, then
  blocked) and CostOps raises budget alerts.
- **Policy-violation burst** — ``start + 6 d 3 h`` for 45 min: after an indexing job adds
  an HR export to acme's ``search-rag``, the policy engine denies ~3 requests a minute for
  PII in retrieved context; a failing GDPR check and a policy change close it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics_hub.demo.catalog import TENANTS_BY_NAME, Route
from analytics_hub.demo.envelopes import (
    Event,
    audit,
    budget_alert,
    compliance_check,
    lifecycle,
    policy_violation,
    threat,
    token_cost,
)
from analytics_hub.demo.traffic import lognormal, model_call, pick_user, poisson

LATENCY_REGRESSION_AFTER = timedelta(days=4, hours=10)
REGRESSION_FACTOR = 2.5
COST_SPIKE_AFTER = timedelta(days=5, hours=14)
COST_SPIKE_DURATION = timedelta(hours=2)
POLICY_BURST_AFTER = timedelta(days=6, hours=3)
POLICY_BURST_DURATION = timedelta(minutes=45)

REGRESSED = ("acme", "code-assistant")
OLD_MODEL, NEW_MODEL = "claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20241022"
ABUSER, ABUSER_IP = "globex-u7781", "198.51.100.23"
ABUSIVE_CALLS_PER_MINUTE = 4.0
VIOLATIONS_PER_MINUTE = 3.0
PII_POLICY = (
    "pol-pii-002",
    "PII in retrieved context",
    "Retrieved documents containing personal data were sent to an external model",
    ("pii.email", "pii.iban", "rag.context_scan"),
)


@dataclass(frozen=True, slots=True)
class Incident:
    """An injected incident: where it is (tenant, asset, model), when, and what shows it."""

    key: str
    title: str
    tenant: str
    asset_id: str
    model_id: str | None
    start: datetime
    end: datetime | None  # None: it does not end (a regression persists into live traffic)
    signal: str


def describe_incidents(start: datetime) -> list[Incident]:
    """The incidents of a generator whose backfill (or first live tick) began at ``start``."""
    return [
        Incident(
            key="latency_regression",
            title="Latency regression after code-assistant 2.4.0 changed model version",
            tenant="acme",
            asset_id="code-assistant",
            model_id=NEW_MODEL,
            start=start + LATENCY_REGRESSION_AFTER,
            end=None,
            signal="VERSION_PUBLISHED lifecycle event, then p50/p95 latency_ms and ttft_ms "
            f"of the asset ~{REGRESSION_FACTOR}x (model_id changes from {OLD_MODEL})",
        ),
        Incident(
            key="cost_spike",
            title="Cost spike from abusive huge prompts on support-bot",
            tenant="globex",
            asset_id="support-bot",
            model_id="gpt-4o",
            start=start + COST_SPIKE_AFTER,
            end=start + COST_SPIKE_AFTER + COST_SPIKE_DURATION,
            signal=f"hourly cost_usd and input_tokens jump, almost all from user_id {ABUSER}; "
            "denial_of_service threats from llm-sentinel; budget_alert critical then exceeded",
        ),
        Incident(
            key="policy_violation_burst",
            title="Burst of PII policy violations on search-rag",
            tenant="acme",
            asset_id="search-rag",
            model_id=None,
            start=start + POLICY_BURST_AFTER,
            end=start + POLICY_BURST_AFTER + POLICY_BURST_DURATION,
            signal=f"governance/policy_violation events of policy {PII_POLICY[0]} at "
            f"~{VIOLATIONS_PER_MINUTE:g}/min (normally a few a day); a failing GDPR "
            "compliance_check at its end",
        ),
    ]


class IncidentPlan:
    """The incidents of one run in epoch seconds: their effects on traffic and their events."""

    def __init__(self, seed: int, start: datetime) -> None:
        self._seed = seed
        base = start.timestamp()
        self.regression_at = base + LATENCY_REGRESSION_AFTER.total_seconds()
        self.spike = (base + COST_SPIKE_AFTER.total_seconds(), COST_SPIKE_DURATION.total_seconds())
        self.burst = (
            base + POLICY_BURST_AFTER.total_seconds(),
            POLICY_BURST_DURATION.total_seconds(),
        )

    def call_overrides(
        self, tenant: str, asset_id: str, model_id: str, ts: float
    ) -> tuple[str | None, float]:
        """``(model override, latency factor)`` for a call of ``asset_id`` to ``model_id``.

        After the release every call of the asset is slower (its longer system prompt),
        and its Sonnet calls go to the new snapshot.
        """
        if (tenant, asset_id) == REGRESSED and ts >= self.regression_at:
            return (NEW_MODEL if model_id == OLD_MODEL else None), REGRESSION_FACTOR
        return None, 1.0

    def app_version(self, tenant: str, asset_id: str, ts: float) -> str | None:
        """The version an asset runs at ``ts`` when an incident changed it."""
        if (tenant, asset_id) == REGRESSED and ts >= self.regression_at:
            return "2.4.0"
        return None

    def events(self, tenant: str, minute: float) -> list[Event]:
        """The incident events of ``tenant`` in the minute starting at ``minute``."""
        publish = tenant == REGRESSED[0] and minute <= self.regression_at < minute + 60
        spike_at, spike_for = self.spike
        abuse = tenant == "globex" and spike_at <= minute < spike_at + spike_for
        burst_at, burst_for = self.burst
        burst = tenant == "acme" and burst_at - 60 <= minute < burst_at + burst_for + 60
        if not (publish or abuse or burst):
            return []
        # Seeded by absolute minute only: the same events whatever the stream or rate.
        rng = random.Random(f"{self._seed}/incident/{tenant}/{int(minute)}")
        out: list[Event] = []
        if publish:
            out.append(self._publish(rng))
        if abuse:
            out.extend(self._abuse(rng, minute, minute - spike_at, spike_for))
        if burst:
            out.extend(self._violations(rng, minute, minute - burst_at, burst_for))
        return out

    def _publish(self, rng: random.Random) -> Event:
        return lifecycle(
            rng,
            self.regression_at,
            action="VERSION_PUBLISHED",
            asset_id=REGRESSED[1],
            asset_kind="application",
            version="2.4.0",
            owner="developer-productivity",
            attributes={
                "previous_version": "2.3.1",
                "model_id": NEW_MODEL,
                "previous_model_id": OLD_MODEL,
                "changelog": "upgrade to the October model snapshot; longer system prompt",
            },
        )

    def _abuse(
        self, rng: random.Random, minute: float, elapsed: float, length: float
    ) -> list[Event]:
        tenant = TENANTS_BY_NAME["globex"]
        app = next(a for a in tenant.apps if a.asset_id == "support-bot")
        route = Route("gpt-4o", "chat", 1.0)
        out: list[Event] = []
        for _ in range(poisson(rng, ABUSIVE_CALLS_PER_MINUTE)):
            ts = minute + rng.random() * 60.0
            prompt = min(127_000, round(lognormal(rng, 110_000, 0.08)))
            call = model_call(
                rng,
                tenant,
                app,
                ts,
                user_id=ABUSER,
                route=route,
                input_tokens=prompt,
                error_rate=0.0,
                environment="prod",
            )
            out.append(call)
            done = ts + call["payload"]["data"]["latency_ms"] / 1000.0 + rng.uniform(0.5, 2.0)
            out.append(token_cost(rng, done, call, input_per_mtok=2.5, output_per_mtok=10.0))
        step = int(elapsed // 60)
        if step % 5 == 0:
            level = "medium" if step < 30 else ("high" if step < 90 else "critical")
            blocked = elapsed >= length - 600
            out.append(
                threat(
                    rng,
                    minute + 30.0,
                    asset_id=app.asset_id,
                    threat_type="denial_of_service",
                    level=level,
                    mitigation="blocked" if blocked else "detected",
                    target=f"{app.asset_id}/gpt-4o",
                    attack_vector="oversized prompts at high rate from one session",
                    indicators=["prompt_tokens>100000", f"user:{ABUSER}", f"ip:{ABUSER_IP}"],
                    source_ip=ABUSER_IP,
                )
            )
        alerts = {70: ("critical", 95.4, 95.0), 90: ("exceeded", 101.7, 100.0)}
        if step in alerts:
            kind, spend, threshold = alerts[step]
            out.append(
                budget_alert(
                    rng,
                    minute + 5.0,
                    budget_id="bud-globex-support-bot-daily",
                    budget_name="support-bot daily",
                    limit_usd=100.0,
                    spend_usd=spend,
                    threshold_percent=threshold,
                    alert_type=kind,
                    asset_id=app.asset_id,
                )
            )
        return out

    def _violations(
        self, rng: random.Random, minute: float, elapsed: float, length: float
    ) -> list[Event]:
        tenant = TENANTS_BY_NAME["acme"]
        out: list[Event] = []
        if elapsed < 0:  # the cause, a minute before
            out.append(
                audit(
                    rng,
                    minute + 20.0,
                    action="index.documents_added",
                    actor="etl-bot",
                    resource_type="application",
                    resource_id="search-rag",
                    changes={"documents_added": 18250, "source": "hr-share/exports"},
                )
            )
        elif elapsed < length:
            for _ in range(poisson(rng, VIOLATIONS_PER_MINUTE)):
                out.append(
                    policy_violation(
                        rng,
                        minute + rng.random() * 60.0,
                        asset_id="search-rag",
                        policy=PII_POLICY,
                        user_id=pick_user(rng, tenant),
                        severity="high",
                        auto_remediated=rng.random() < 0.3,
                    )
                )
        elif elapsed < length + 60:  # the response, right after
            controls = ["GDPR-Art5-1c", "GDPR-Art25", "GDPR-Art32", "GDPR-Art44"]
            out.append(
                compliance_check(
                    rng,
                    minute + 10.0,
                    framework="GDPR",
                    controls=controls,
                    failed={"GDPR-Art5-1c", "GDPR-Art32"},
                    asset_id="search-rag",
                )
            )
            out.append(
                audit(
                    rng,
                    minute + 45.0,
                    action="policy.updated",
                    actor="secops@acme.example",
                    resource_type="policy",
                    resource_id=PII_POLICY[0],
                    changes={"mode": {"from": "audit", "to": "block"}},
                )
            )
        return out


__all__ = [
    "COST_SPIKE_AFTER",
    "COST_SPIKE_DURATION",
    "LATENCY_REGRESSION_AFTER",
    "POLICY_BURST_AFTER",
    "POLICY_BURST_DURATION",
    "REGRESSION_FACTOR",
    "Incident",
    "IncidentPlan",
    "describe_incidents",
]
