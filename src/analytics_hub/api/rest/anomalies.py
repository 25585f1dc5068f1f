"""Anomalies: list and inspect them, label them (feedback), detect over history on demand.

Reading needs the read role; labelling, retraining and detection that stores its findings
need admin (the role of every other tenant configuration change). The work runs in
worker threads: it reads the store, and detection is CPU-bound (one at a time per app).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import anyio
import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from analytics_hub.analytics.anomaly.service import (
    AnomalyDetail,
    AnomalyService,
    SeriesThreshold,
)
from analytics_hub.api.context import services
from analytics_hub.api.deps import AdminCaller, ReadCaller
from analytics_hub.auth.keys import Role
from analytics_hub.store.anomalies import AnomalyRecord, DetectorVersion, anomaly_document

router = APIRouter(prefix="/api/v1/anomalies", tags=["anomalies"])
T = TypeVar("T")

_METRIC = "requests, error_rate, p95_latency_ms, tokens or cost_usd"


class Contributing(BaseModel):
    metric: str
    score: float = Field(description="that metric's combined probability in the same minute")
    observed: float


class AnomalyOut(BaseModel):
    id: str
    asset_id: str | None
    model_id: str | None
    metric: str = Field(description=_METRIC)
    minute: datetime = Field(description="start of the minute that alarmed (UTC)")
    score: float = Field(description="the ensemble's probability that the minute is unusual")
    threshold: float = Field(description="the series' alarm threshold when it was scored")
    offset: float = Field(description="feedback offset in that threshold, in decades of rarity")
    observed: float
    expected_low: float | None = Field(description="lower end of the expected band")
    expected_high: float | None = Field(description="upper end of the expected band")
    contributing: list[Contributing] = Field(
        description="other metrics of the series that were unusual in the same minute"
    )
    votes: dict[str, float] = Field(description="each ensemble member's probability")
    detector: str
    version: str = Field(description="id of the detector version that scored it")
    source: Literal["stream", "detect"]
    created_at: datetime
    latency_ms: float | None = Field(
        description="from the end of the minute until the anomaly was stored (stream only)"
    )
    label: Literal["true_positive", "false_positive"] | None
    labelled_at: datetime | None


class AnomalyPageOut(BaseModel):
    items: list[AnomalyOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class ThresholdOut(BaseModel):
    asset_id: str | None
    model_id: str | None
    metric: str
    offset: float = Field(description="decades of rarity added by feedback (0: the default)")
    threshold: float = Field(description="alarm threshold on the score")
    false_positives: int
    true_positives: int


class ThresholdList(BaseModel):
    items: list[ThresholdOut]


class ContextPointOut(BaseModel):
    minute: datetime
    value: float | None = Field(description="null where undefined (e.g. no calls)")


class ContextOut(BaseModel):
    metric: str
    points: list[ContextPointOut]
    expected_low: float | None
    expected_high: float | None


class AnomalyDetailOut(BaseModel):
    anomaly: AnomalyOut
    context: ContextOut
    series: ThresholdOut = Field(description="the series' threshold for this metric now")


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Literal["true_positive", "false_positive"]


class FeedbackOut(BaseModel):
    anomaly: AnomalyOut
    series: ThresholdOut = Field(description="the series' threshold after the feedback")


class DetectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: AwareDatetime = Field(alias="from", description="inclusive start, RFC 3339")
    to: AwareDatetime = Field(description="exclusive end, RFC 3339")
    asset_id: str | None = Field(default=None, max_length=300)
    model_id: str | None = Field(default=None, max_length=300)
    metric: str | None = Field(default=None, description=f"one of {_METRIC}; default all")
    min_score: float | None = Field(default=None, ge=0, le=1)
    store: bool = Field(default=False, description="store what is found (admin role)")


class DetectOut(BaseModel):
    anomalies: list[AnomalyOut] = Field(description="newest first")
    series: int = Field(description="series scored")
    minutes: int = Field(description="minutes in the range scored")
    stored: int | None = Field(description="anomalies newly stored (null unless `store`)")


class VersionOut(BaseModel):
    id: str
    asset_id: str | None
    model_id: str | None
    created_at: datetime
    reason: str = Field(description="warm_start, retrain, scheduled or detect")
    parameters: dict[str, Any]
    window_start: datetime | None
    window_end: datetime | None
    minutes: int = Field(description="minutes of history the detector was primed with")
    metrics: dict[str, Any] = Field(description="per metric: rows and alarms in the window")


class VersionList(BaseModel):
    items: list[VersionOut]


class RetrainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_id: str | None = Field(default=None, max_length=300)
    model_id: str | None = Field(default=None, max_length=300)


class RetrainOut(BaseModel):
    queued: int = Field(description="live series queued for a rebuild from history")


def _anomalies(request: Request) -> AnomalyService:
    found: AnomalyService = services(request).anomalies
    return found


async def _run(fn: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(fn)


def _out(record: AnomalyRecord) -> AnomalyOut:
    return AnomalyOut.model_validate(anomaly_document(record))


def _threshold(t: SeriesThreshold) -> ThresholdOut:
    return ThresholdOut.model_validate(t, from_attributes=True)


def _detail(d: AnomalyDetail) -> AnomalyDetailOut:
    return AnomalyDetailOut(
        anomaly=_out(d.record),
        context=ContextOut(
            metric=d.record.metric,
            points=[ContextPointOut(minute=p.minute, value=p.value) for p in d.context],
            expected_low=d.record.expected_low,
            expected_high=d.record.expected_high,
        ),
        series=_threshold(d.series),
    )


def _version(v: DetectorVersion) -> VersionOut:
    return VersionOut.model_validate(v, from_attributes=True)


@router.get("", response_model=AnomalyPageOut, summary="List anomalies, newest first")
async def list_anomalies(
    request: Request,
    caller: ReadCaller,
    from_: Annotated[datetime | None, Query(alias="from", description="RFC 3339")] = None,
    to: Annotated[datetime | None, Query(description="RFC 3339")] = None,
    asset_id: str | None = None,
    model_id: str | None = None,
    metric: Annotated[str | None, Query(description=_METRIC)] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> AnomalyPageOut:
    svc = _anomalies(request)
    page = await _run(
        lambda: svc.page(
            caller.tenant_id,
            start=from_,
            end=to,
            asset_id=asset_id,
            model_id=model_id,
            metric=metric,
            min_score=min_score,
            limit=limit,
            cursor=cursor,
        )
    )
    return AnomalyPageOut(items=[_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/thresholds", response_model=ThresholdList, summary="Thresholds moved by feedback")
async def list_thresholds(request: Request, caller: ReadCaller) -> ThresholdList:
    svc = _anomalies(request)
    items = await _run(lambda: svc.thresholds(caller.tenant_id))
    return ThresholdList(items=[_threshold(t) for t in items])


@router.get("/versions", response_model=VersionList, summary="Detector versions, newest first")
async def list_versions(
    request: Request,
    caller: ReadCaller,
    asset_id: str | None = None,
    model_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> VersionList:
    svc = _anomalies(request)
    items = await _run(
        lambda: svc.versions(caller.tenant_id, asset_id=asset_id, model_id=model_id, limit=limit)
    )
    return VersionList(items=[_version(v) for v in items])


@router.post("/retrain", response_model=RetrainOut, summary="Rebuild live detectors from history")
async def retrain(request: Request, caller: AdminCaller, body: RetrainIn) -> RetrainOut:
    svc = _anomalies(request)
    queued = svc.retrain(caller.tenant_id, asset_id=body.asset_id, model_id=body.model_id)
    return RetrainOut(queued=queued)


@router.post("/detect", response_model=DetectOut, summary="Detect anomalies in stored history")
async def detect(request: Request, caller: ReadCaller, body: DetectIn) -> DetectOut:
    if body.store:
        caller.require(Role.ADMIN)  # storing findings changes the tenant's records
    svc = _anomalies(request)
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "anomaly_detect_limiter", None)
    if limiter is None:  # CPU-bound: one detection at a time per app
        limiter = state.anomaly_detect_limiter = anyio.CapacityLimiter(1)
    result = await anyio.to_thread.run_sync(
        lambda: svc.detect(
            caller.tenant_id,
            body.from_,
            body.to,
            asset_id=body.asset_id,
            model_id=body.model_id,
            metric=body.metric,
            min_score=body.min_score,
            store=body.store,
        ),
        limiter=limiter,
    )
    return DetectOut(
        anomalies=[_out(r) for r in result.anomalies],
        series=result.series,
        minutes=result.minutes,
        stored=result.stored,
    )


@router.get("/{anomaly_id}", response_model=AnomalyDetailOut, summary="One anomaly in context")
async def get_anomaly(
    request: Request,
    caller: ReadCaller,
    anomaly_id: Annotated[str, Path(max_length=100)],
    context_minutes: Annotated[int, Query(ge=0, le=360)] = 30,
) -> AnomalyDetailOut:
    svc = _anomalies(request)
    detail = await _run(
        lambda: svc.get(caller.tenant_id, anomaly_id, context_minutes=context_minutes)
    )
    return _detail(detail)


@router.post("/{anomaly_id}/feedback", response_model=FeedbackOut, summary="Label an anomaly")
async def give_feedback(
    request: Request, caller: AdminCaller, anomaly_id: str, body: FeedbackIn
) -> FeedbackOut:
    svc = _anomalies(request)
    record, series = await _run(lambda: svc.label(caller.tenant_id, anomaly_id, body.label))
    return FeedbackOut(anomaly=_out(record), series=_threshold(series))


@router.delete(
    "/{anomaly_id}/feedback", response_model=FeedbackOut, summary="Withdraw an anomaly's label"
)
async def withdraw_feedback(request: Request, caller: AdminCaller, anomaly_id: str) -> FeedbackOut:
    svc = _anomalies(request)
    record, series = await _run(lambda: svc.label(caller.tenant_id, anomaly_id, None))
    return FeedbackOut(anomaly=_out(record), series=_threshold(series))


__all__ = ["router"]
