"""A saved dashboard: its time range, its panels and the typed query of each panel.

These pydantic models check shape (types, sizes, the 12-column grid) and are the
OpenAPI schema of ``/api/v1/dashboards``. Whether each panel's query runs is checked by
:class:`~analytics_hub.query.dashboards.DashboardService` with the query planner, over
the dashboard's own time range.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from analytics_hub.query.model import (
    MAX_AGGREGATES,
    MAX_FILTERS,
    MAX_GROUP_BY,
    MAX_ORDER_BY,
    Aggregate,
    BucketKey,
    Filter,
    OrderBy,
    Query,
    TimeRange,
)

MAX_PANELS = 50
GRID_COLUMNS = 12
MAX_GRID_ROWS = 1000
MAX_OPTIONS = 32
MAX_OPTIONS_BYTES = 4096
#: the longest range a query may span (``query.planner.MAX_RANGE``)
MAX_RANGE_DAYS = 3660

PanelKind = Literal["line", "area", "bar", "stacked_bar", "table", "number", "heatmap"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

_RELATIVE_RE = re.compile(r"([1-9][0-9]{0,5})([mhdw])")
_UNIT = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_UNIT["w"] = timedelta(weeks=1)
_PANEL_ID = r"^[A-Za-z0-9_-]{1,64}$"


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


def relative_span(text: str) -> timedelta:
    """``"15m"``, ``"24h"``, ``"7d"``, ``"4w"`` -> a duration; ``ValueError`` otherwise."""
    match = _RELATIVE_RE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"relative range {text[:40]!r} must be a number and a unit m, h, d or w "
            "(e.g. 15m, 24h, 7d)"
        )
    span = int(match.group(1)) * _UNIT[match.group(2)]
    if span > timedelta(days=MAX_RANGE_DAYS):
        raise ValueError(f"relative range {text!r} is longer than {MAX_RANGE_DAYS} days")
    return span


class DashboardTimeRange(_Model):
    """Either ``relative`` (the last 24h, 7d, …, up to now) or absolute ``from`` and
    ``to`` (RFC 3339 with a zone)."""

    relative: str | None = Field(
        default=None, max_length=64, description="e.g. 15m, 24h, 7d, 4w: that long up to now"
    )
    from_: AwareDatetime | None = Field(default=None, alias="from", description="inclusive")
    to: AwareDatetime | None = Field(default=None, description="exclusive")

    @field_validator("relative")
    @classmethod
    def _span(cls, value: str | None) -> str | None:
        if value is not None:
            relative_span(value)
        return value

    @model_validator(mode="after")
    def _one_form(self) -> DashboardTimeRange:
        if self.relative is not None:
            if (self.from_, self.to) != (None, None):
                raise ValueError("give either 'relative' or 'from' and 'to', not both")
        elif self.from_ is None or self.to is None:
            raise ValueError("give either 'relative' (e.g. 24h) or both 'from' and 'to'")
        elif self.from_ >= self.to:
            raise ValueError("'from' must be earlier than 'to'")
        elif self.to - self.from_ > timedelta(days=MAX_RANGE_DAYS):
            raise ValueError(f"the range spans more than {MAX_RANGE_DAYS} days")
        return self

    def resolve(self, now: datetime) -> TimeRange:
        """The range a query runs over at ``now`` (aware)."""
        if self.relative is not None:
            return TimeRange(from_=now - relative_span(self.relative), to=now)
        # both set: checked by _one_form
        assert self.from_ is not None
        assert self.to is not None
        return TimeRange(from_=self.from_, to=self.to)


class PanelQuery(_Model):
    """A typed query as ``POST /api/v1/query`` takes it, without ``time_range`` (the
    dashboard's applies) and without ``cursor`` (paging is not saved)."""

    filters: list[Filter] = Field(default_factory=list, max_length=MAX_FILTERS)
    group_by: list[str | BucketKey] = Field(default_factory=list, max_length=MAX_GROUP_BY)
    aggregates: list[Aggregate] = Field(default_factory=list, max_length=MAX_AGGREGATES)
    order_by: list[OrderBy] = Field(default_factory=list, max_length=MAX_ORDER_BY)
    limit: int = Field(default=100, ge=1, description="rows per page, at most query_max_rows")

    @model_validator(mode="before")
    @classmethod
    def _no_range_or_cursor(cls, data: Any) -> Any:
        # Say why, rather than pydantic's bare "extra inputs are not permitted".
        if isinstance(data, dict):
            if "time_range" in data:
                raise ValueError("a panel's query has no time_range: the dashboard's applies")
            if "cursor" in data:
                raise ValueError("a panel's query has no cursor: paging is not saved")
        return data

    def over(self, time_range: TimeRange) -> Query:
        """This query over ``time_range``: what the panel runs."""
        return Query(
            time_range=time_range,
            filters=self.filters,
            group_by=self.group_by,
            aggregates=self.aggregates,
            order_by=self.order_by,
            limit=self.limit,
        )


class Layout(_Model):
    """Where a panel sits on the 12-column grid (in grid units)."""

    x: int = Field(ge=0, lt=GRID_COLUMNS, description="column, 0-11")
    y: int = Field(ge=0, lt=MAX_GRID_ROWS, description="row")
    w: int = Field(ge=1, le=GRID_COLUMNS, description="width in columns; x + w <= 12")
    h: int = Field(ge=1, le=100, description="height in rows")

    @model_validator(mode="after")
    def _fits(self) -> Layout:
        if self.x + self.w > GRID_COLUMNS:
            raise ValueError(f"x + w is {self.x + self.w}; the grid has {GRID_COLUMNS} columns")
        return self


class Panel(_Model):
    """One chart, table or number on a dashboard."""

    id: str | None = Field(
        default=None,
        pattern=_PANEL_ID,
        description="unique in the dashboard: 1-64 letters, digits, _ and -; made when absent",
    )
    title: str = Field(default="", max_length=200)
    kind: PanelKind
    query: PanelQuery
    layout: Layout
    options: dict[str, Any] = Field(
        default_factory=dict,
        description=f"display options for the UI, at most {MAX_OPTIONS} keys and "
        f"{MAX_OPTIONS_BYTES} bytes of JSON",
    )

    @field_validator("options")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > MAX_OPTIONS:
            raise ValueError(f"at most {MAX_OPTIONS} options, got {len(value)}")
        if len(json.dumps(value, separators=(",", ":")).encode()) > MAX_OPTIONS_BYTES:
            raise ValueError(f"options take at most {MAX_OPTIONS_BYTES} bytes of JSON")
        return value


class DashboardDocument(_Model):
    """What a dashboard is, without the hub's bookkeeping (id, version, timestamps)."""

    name: Name = Field(description="1-200 characters")
    description: str | None = Field(default=None, max_length=2000)
    time_range: DashboardTimeRange
    refresh_seconds: int | None = Field(
        default=None, ge=5, le=86400, description="auto-refresh period; null: off"
    )
    panels: list[Panel] = Field(default_factory=list, max_length=MAX_PANELS)

    @field_validator("panels")
    @classmethod
    def _panel_ids(cls, panels: list[Panel]) -> list[Panel]:
        seen: set[str] = set()
        for panel in panels:
            if panel.id is not None and panel.id in seen:
                raise ValueError(f"panel id {panel.id!r} appears twice")
            seen.add(panel.id or "")
        # Panels imported or drawn without an id get one, so the UI can address each.
        return [p if p.id else p.model_copy(update={"id": _panel_id(seen)}) for p in panels]


def _panel_id(taken: set[str]) -> str:
    while True:
        made = "p" + secrets.token_hex(4)
        if made not in taken:
            taken.add(made)
            return made


_IGNORED = "ignored: the hub keeps its own"


class DashboardCreate(DashboardDocument):
    """A new dashboard, or an exported one imported: bookkeeping fields are ignored."""

    id: Any = Field(default=None, description=_IGNORED)
    version: Any = Field(default=None, description=_IGNORED)
    created_at: Any = Field(default=None, description=_IGNORED)
    updated_at: Any = Field(default=None, description=_IGNORED)


class DashboardReplace(DashboardDocument):
    """The whole dashboard again, with the ``version`` it was read at."""

    version: int = Field(ge=1, description="the version read; another means someone saved since")
    id: Any = Field(default=None, description=_IGNORED)
    created_at: Any = Field(default=None, description=_IGNORED)
    updated_at: Any = Field(default=None, description=_IGNORED)


class Dashboard(DashboardDocument):
    """A saved dashboard. The same document is the export format."""

    id: str = Field(description="made by the hub, URL-safe")
    version: int = Field(description="1 when created, one more on every replace")
    created_at: datetime
    updated_at: datetime


class DashboardSummary(_Model):
    """A dashboard in the list."""

    id: str
    name: str
    updated_at: datetime


class DashboardList(_Model):
    """A tenant's dashboards, by name."""

    items: list[DashboardSummary]


#: the fields kept as the stored document
DOCUMENT_FIELDS = frozenset(DashboardDocument.model_fields)

__all__ = [
    "DOCUMENT_FIELDS",
    "GRID_COLUMNS",
    "MAX_PANELS",
    "Dashboard",
    "DashboardCreate",
    "DashboardDocument",
    "DashboardList",
    "DashboardReplace",
    "DashboardSummary",
    "DashboardTimeRange",
    "Layout",
    "Panel",
    "PanelKind",
    "PanelQuery",
    "relative_span",
]
