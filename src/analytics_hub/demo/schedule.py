"""Events that follow a calendar rather than traffic.

Registry announcements of every application at the start and a few benign releases,
compliance checks every six hours, CostOps budget alerts late on weekday afternoons as
the week's spend climbs, and a handful of audited admin actions a day.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from analytics_hub.demo.catalog import TenantSpec
from analytics_hub.demo.envelopes import Event, audit, budget_alert, compliance_check, lifecycle

Builder = Callable[[random.Random, float], Event]

FRAMEWORKS = {
    "acme": ("SOC2", "HIPAA"),
    "globex": ("SOC2", "GDPR"),
}
CONTROLS = {
    "SOC2": ["CC6.1", "CC6.6", "CC7.2", "CC8.1"],
    "HIPAA": ["164.308(a)(1)", "164.312(b)", "164.312(e)(1)"],
    "GDPR": ["GDPR-Art5-1c", "GDPR-Art25", "GDPR-Art32", "GDPR-Art44"],
}
ADMIN_ACTIONS = (
    ("api_key.created", "api_key", {"scopes": ["ingest"]}),
    ("policy.updated", "policy", {"threshold": {"from": 0.8, "to": 0.7}}),
    ("budget.updated", "budget", {"limit_usd": {"from": 20000, "to": 25000}}),
    ("model.allowlist_changed", "policy", {"added": ["gpt-4o-mini"]}),
    ("user.role_granted", "user", {"role": "analyst"}),
)
AUDITS_PER_DAY = 5.0

# Benign releases, as offsets from the start: (tenant, asset, offset, action, version).
RELEASES = (
    ("acme", "support-bot", timedelta(days=1, hours=16), "VERSION_PUBLISHED", "3.2.0"),
    ("globex", "search-rag", timedelta(days=2, hours=11), "VERSION_PUBLISHED", "1.8.0"),
    ("globex", "support-bot-legacy", timedelta(days=3, hours=15), "ASSET_DEPRECATED", "4.9.7"),
    ("acme", "doc-summarizer", timedelta(days=3, hours=9), "ASSET_UPDATED", "0.9.2"),
)


class Schedule:
    """The calendar events of one tenant, by minute."""

    def __init__(self, seed: int, tenant: TenantSpec, start: datetime) -> None:
        self._seed = seed
        self._tenant = tenant
        self._fixed: dict[int, list[tuple[float, Builder]]] = {}
        base = start.timestamp()
        for i, app in enumerate(tenant.apps):
            # Registered one after another in the first minutes, as a registry sync would.
            self._add(base + 60.0 * (i + 1) + 7.0, _registered(app.asset_id, app.team, app.version))
        for name, asset, offset, action, version in RELEASES:
            if name == tenant.name:
                owner = next((a.team for a in tenant.apps if a.asset_id == asset), "platform")
                self._add(base + offset.total_seconds(), _release(asset, action, version, owner))

    def _add(self, ts: float, build: Builder) -> None:
        self._fixed.setdefault(int(ts // 60), []).append((ts, build))

    def events(self, minute: float) -> list[Event]:
        """The calendar events in the minute starting at ``minute`` (epoch seconds)."""
        rng = random.Random(f"{self._seed}/schedule/{self._tenant.name}/{int(minute)}")
        out = [build(rng, ts) for ts, build in self._fixed.get(int(minute // 60), [])]
        local = datetime.fromtimestamp(minute + self._tenant.utc_offset_hours * 3600, UTC)
        if int(minute // 60) % 360 == 7:  # every six hours, seven minutes past
            out.append(self._compliance(rng, minute))
        if local.hour == 17 and local.minute == 30 and local.weekday() < 5:
            alert = self._budget(rng, minute, local)
            if alert is not None:
                out.append(alert)
        if rng.random() < AUDITS_PER_DAY / 1440.0:
            action, kind, changes = rng.choice(ADMIN_ACTIONS)
            out.append(
                audit(
                    rng,
                    minute + rng.random() * 60.0,
                    action=action,
                    actor=f"admin{rng.randrange(1, 4)}@{self._tenant.name}.example",
                    resource_type=kind,
                    resource_id=f"{kind}-{rng.randrange(1, 20):02d}",
                    changes=changes,
                )
            )
        return out

    def _compliance(self, rng: random.Random, minute: float) -> Event:
        frameworks = FRAMEWORKS.get(self._tenant.name, ("SOC2",))
        framework = frameworks[int(minute // 21600) % len(frameworks)]
        controls = CONTROLS[framework]
        failed = {rng.choice(controls)} if rng.random() < 0.1 else set()
        return compliance_check(
            rng, minute + 12.0, framework=framework, controls=list(controls), failed=failed
        )

    def _budget(self, rng: random.Random, minute: float, local: datetime) -> Event | None:
        # Weekly team budgets: the week's spend grows day by day; alerts start at 80 %.
        used = (local.weekday() + 1) / 5.0 * rng.uniform(0.85, 1.1)
        if used < 0.8:
            return None
        kind = "exceeded" if used >= 1.0 else ("critical" if used >= 0.95 else "warning")
        threshold = {"warning": 80.0, "critical": 95.0, "exceeded": 100.0}[kind]
        limit = round(self._tenant.monthly_budget_usd * 12 / 52, -2)
        return budget_alert(
            rng,
            minute + 3.0,
            budget_id=f"bud-{self._tenant.name}-llm-weekly",
            budget_name="LLM spend, weekly",
            limit_usd=limit,
            spend_usd=limit * used,
            threshold_percent=threshold,
            alert_type=kind,
        )


def _registered(asset_id: str, team: str, version: str) -> Builder:
    def build(rng: random.Random, ts: float) -> Event:
        return lifecycle(
            rng,
            ts,
            action="ASSET_REGISTERED",
            asset_id=asset_id,
            asset_kind="application",
            version=version,
            owner=team,
            attributes={"source": "registry-sync"},
        )

    return build


def _release(asset_id: str, action: str, version: str, owner: str) -> Builder:
    def build(rng: random.Random, ts: float) -> Event:
        return lifecycle(
            rng,
            ts,
            action=action,
            asset_id=asset_id,
            asset_kind="application",
            version=version,
            owner=owner,
            attributes={"changelog": "routine release"},
        )

    return build


__all__ = ["Schedule"]
