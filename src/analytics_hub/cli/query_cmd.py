"""``analytics-hub query``: a typed query from flags or a JSON file; a table or JSON."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError as PydanticValidationError
from rich.console import Console
from rich.table import Table

from analytics_hub.cli.options import ApiKey, ConfigFile, DataDir, Url, fail, settings_from
from analytics_hub.client import HubClient, HubClientError
from analytics_hub.errors import HubError

_DURATION = re.compile(r"^(\d+)\s*(m|h|d|w)$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``15m``, ``24h``, ``7d``, ``2w`` as a timedelta."""
    match = _DURATION.match(text.strip())
    if not match:
        raise typer.BadParameter(f"{text!r} is not a duration like 15m, 24h, 7d or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _value(text: str, op: str) -> Any:
    if op in ("in", "not_in"):
        return [_value(part, "eq") for part in text.split(",")]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def build_query(
    *,
    last: str | None,
    from_: str | None,
    to: str | None,
    filters: list[str],
    group_by: list[str],
    aggs: list[str],
    order_by: list[str],
    limit: int | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The query body for the flags (see ``analytics-hub query --help``)."""
    now = now or datetime.now(UTC)
    time_range: dict[str, str]
    if from_ or to:
        # One end given: the other is 24 hours away from it (or now, for a missing end).
        end = to or now.isoformat()
        start = from_ or (datetime.fromisoformat(end) - parse_duration(last or "24h")).isoformat()
        time_range = {"from": start, "to": end}
    else:
        time_range = {
            "from": (now - parse_duration(last or "24h")).isoformat(),
            "to": now.isoformat(),
        }
    query: dict[str, Any] = {"time_range": time_range}
    parsed_filters = []
    for f in filters:
        name, sep1, rest = f.partition(":")
        op, sep2, value = rest.partition(":")
        if not (sep1 and sep2 and name and op):
            raise typer.BadParameter(
                f"filter {f!r} is not field:op:value (e.g. model_id:eq:gpt-4o)"
            )
        parsed_filters.append({"field": name, "op": op, "value": _value(value, op)})
    if parsed_filters:
        query["filters"] = parsed_filters
    groups: list[Any] = []
    for g in group_by:
        groups.append({"bucket": g.split(":", 1)[1]} if g.startswith("bucket:") else g)
    if groups:
        query["group_by"] = groups
    aggregates = []
    for a in aggs:
        parts = a.split(":")
        if len(parts) not in (2, 3) or not parts[0]:
            raise typer.BadParameter(
                f"aggregate {a!r} is not fn:field[:as] (e.g. p95:latency_ms:p95)"
            )
        fn, field = parts[0], parts[1] or None
        alias = parts[2] if len(parts) == 3 and parts[2] else (f"{fn}_{field}" if field else fn)
        agg: dict[str, Any] = {"fn": fn, "as": alias}
        if field:
            agg["field"] = field
        aggregates.append(agg)
    if aggregates:
        query["aggregates"] = aggregates
    if order_by:
        query["order_by"] = [
            {"field": o.lstrip("-"), "direction": "desc" if o.startswith("-") else "asc"}
            for o in order_by
        ]
    if limit is not None:
        query["limit"] = limit
    return query


def _print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        typer.echo("no rows")
        return
    columns = list(rows[0])
    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console().print(table)


def query(
    file: Annotated[
        Path | None, typer.Option("--file", help="A JSON file holding the whole query")
    ] = None,
    last: Annotated[str | None, typer.Option(help="Range ending now: 15m, 24h, 7d, 2w")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Start, RFC 3339")] = None,
    to: Annotated[str | None, typer.Option("--to", help="End, RFC 3339")] = None,
    filter: Annotated[
        list[str] | None, typer.Option("--filter", help="field:op:value, repeatable")
    ] = None,
    group_by: Annotated[
        list[str] | None, typer.Option("--group-by", help="A field, or bucket:1h; repeatable")
    ] = None,
    agg: Annotated[
        list[str] | None, typer.Option("--agg", help="fn:field:as, e.g. p95:latency_ms:p95")
    ] = None,
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", help="field or -field (descending)")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Rows per page")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON answer")] = False,
    url: Url = None,
    api_key: ApiKey = None,
    tenant: Annotated[
        str | None, typer.Option("--tenant", "-t", help="Tenant, direct mode")
    ] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Ask a question: through a running hub (--url) or a stopped hub's data (--tenant)."""
    if file:
        try:
            body = json.loads(file.read_text())
        except (OSError, ValueError) as exc:  # missing, unreadable, or not JSON
            fail(f"cannot read the query file {str(file)!r}: {exc}")
    else:
        body = build_query(
            last=last,
            from_=from_,
            to=to,
            filters=filter or [],
            group_by=group_by or [],
            aggs=agg or [],
            order_by=order_by or [],
            limit=limit,
        )
    if url:
        if not api_key:
            fail("--url needs --api-key (or HUB_API_KEY)")
        try:
            with HubClient(url, api_key) as hub:
                answer = hub.query(body)
        except HubClientError as exc:
            fail(str(exc))
    elif tenant:
        answer = _direct(settings_from(data_dir, config), tenant, body)
    else:
        fail("give --url and --api-key for a running hub, or --tenant to read a stopped hub's data")
    if as_json:
        typer.echo(json.dumps(answer, indent=2, default=str))
    else:
        _print_table(answer["rows"])
        if answer.get("next_cursor"):
            typer.echo(f'more rows: pass "cursor": {answer["next_cursor"]!r}', err=True)


def _direct(settings: Any, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
    from analytics_hub.query import Query, QueryService
    from analytics_hub.server.stores import open_event_store

    try:
        store = open_event_store(settings)
    except Exception as exc:
        fail(f"cannot open the store ({exc}); if a hub is running, use --url and --api-key")
    try:
        service = QueryService(
            store,
            max_rows=settings.query_max_rows,
            max_buckets=settings.query_max_buckets,
            max_unbucketed_range_days=settings.query_max_unbucketed_range_days,
        )
        result = service.run(tenant, Query.model_validate(body))
        answer: dict[str, Any] = result.model_dump(mode="json", by_alias=True)
        return answer
    except HubError as exc:
        fail(exc.message)
    except PydanticValidationError as exc:  # the body is not a query (as the API's 400)
        fail(
            "invalid query: "
            + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        )
    finally:
        store.close()


__all__ = ["build_query", "parse_duration", "query"]
