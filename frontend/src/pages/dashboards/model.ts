// Saved dashboards: the document as /api/v1/dashboards keeps it, and the pure functions
// that turn a panel into a typed query and its rows into what a panel draws. Unit-tested.
import type { Aggregate, Bucket, QueryFilter, QueryRow, TypedQuery } from "../../api/types";
import { pivot, type Series } from "../../lib/shape";
import { DEFAULT_RANGE, durationMs, RELATIVE_CHOICES, type RangeSpec, type ResolvedRange } from "../../lib/time";

// ---------------------------------------------------------------------------------------
// The document (src/analytics_hub/query/dashboard_model.py)

export const PANEL_KINDS = ["line", "area", "bar", "stacked_bar", "table", "number", "heatmap"] as const;
export type PanelKind = (typeof PANEL_KINDS)[number];

export const KIND_LABELS: Record<PanelKind, string> = {
  line: "Line chart",
  area: "Area chart (stacked)",
  bar: "Bar chart",
  stacked_bar: "Stacked bar chart",
  table: "Table",
  number: "Single number",
  heatmap: "Heat map",
};

export type AggregateFn = Aggregate["fn"];
export const AGGREGATE_FNS: readonly AggregateFn[] = [
  "count",
  "count_distinct",
  "sum",
  "avg",
  "min",
  "max",
  "p50",
  "p90",
  "p95",
  "p99",
];
export const FILTER_OPS: readonly QueryFilter["op"][] = [
  "eq",
  "ne",
  "in",
  "not_in",
  "gt",
  "gte",
  "lt",
  "lte",
  "contains",
  "starts_with",
];
const BUCKETS: readonly Bucket[] = ["1m", "5m", "15m", "1h", "1d"];

export type GroupKey = string | { bucket: Bucket };
export interface OrderBy {
  field: string;
  direction?: "asc" | "desc";
}

/** A typed query without ``time_range`` (the dashboard's applies) and without a cursor. */
export interface PanelQuery {
  filters?: QueryFilter[];
  group_by?: GroupKey[];
  aggregates?: Aggregate[];
  order_by?: OrderBy[];
  limit?: number;
}

export interface PanelLayout {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Panel {
  id: string;
  title: string;
  kind: PanelKind;
  query: PanelQuery;
  layout: PanelLayout;
  options?: Record<string, unknown>;
}

/** Relative (``{"relative": "24h"}``) or absolute; the hub sends the other form's keys as null. */
export interface DashboardTimeRange {
  relative?: string | null;
  from?: string | null;
  to?: string | null;
}

export interface DashboardDocument {
  name: string;
  description?: string | null;
  time_range: DashboardTimeRange;
  refresh_seconds?: number | null;
  panels: Panel[];
}

export interface Dashboard extends DashboardDocument {
  id: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface DashboardSummary {
  id: string;
  name: string;
  updated_at: string;
}

export interface DashboardList {
  items: DashboardSummary[];
}

export const GRID_COLUMNS = 12;
export const MAX_PANELS = 50;

// ---------------------------------------------------------------------------------------
// Time range and refresh

const SERVER_UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** The UI's range for a dashboard's saved range ("4w" becomes "28d"; the UI has no weeks). */
export function specFromTimeRange(tr: DashboardTimeRange | null | undefined): RangeSpec {
  if (!tr) return DEFAULT_RANGE;
  if (tr.relative) {
    const match = /^(\d+)([mhdw])$/.exec(tr.relative.trim());
    if (!match) return DEFAULT_RANGE;
    const ms = Number(match[1]) * (SERVER_UNIT_MS[match[2] as string] ?? 0);
    // As the range picker names it ("24h", not "1d"), else as written, else in days/hours/minutes.
    const named = RELATIVE_CHOICES.find((c) => durationMs(c) === ms);
    const last = named ?? (durationMs(tr.relative.trim()) !== null ? tr.relative.trim() : shortestDuration(ms));
    return last ? { kind: "relative", last } : DEFAULT_RANGE;
  }
  if (tr.from && tr.to && Date.parse(tr.from) < Date.parse(tr.to)) {
    return { kind: "absolute", from: tr.from, to: tr.to };
  }
  return DEFAULT_RANGE;
}

function shortestDuration(ms: number): string | null {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
  ] as const) {
    if (ms > 0 && ms % size === 0) {
      const text = `${ms / size}${unit}`;
      if (durationMs(text) !== null) return text;
    }
  }
  return null;
}

export function timeRangeFromSpec(spec: RangeSpec): DashboardTimeRange {
  return spec.kind === "relative" ? { relative: spec.last } : { from: spec.from, to: spec.to };
}

/** The hub takes 5 s to a day, or null for "off". */
export function refreshForDocument(seconds: number): number | null {
  if (!Number.isFinite(seconds) || seconds <= 0) return null;
  return Math.min(86_400, Math.max(5, Math.round(seconds)));
}

// ---------------------------------------------------------------------------------------
// Panel queries

export const SERIES_KINDS: readonly PanelKind[] = ["line", "area", "bar", "stacked_bar", "heatmap"];

export function isSeriesKind(kind: PanelKind): boolean {
  return SERIES_KINDS.includes(kind);
}

export function isBucketKey(key: GroupKey): key is { bucket: Bucket } {
  return typeof key === "object" && key !== null && "bucket" in key;
}

/** The bucket of a query's group_by, if it has one. */
export function bucketOf(query: PanelQuery): Bucket | null {
  const key = (query.group_by ?? []).find(isBucketKey);
  return key ? key.bucket : null;
}

/** The group-by field names other than the time bucket. */
export function dimensionsOf(query: PanelQuery): string[] {
  return (query.group_by ?? []).filter((k): k is string => typeof k === "string");
}

/** The column an aggregate comes out as (the hub's rule: ``as``, else ``fn_field`` or ``fn``). */
export function aggregateAlias(agg: Aggregate): string {
  if (agg.as) return agg.as;
  if (!agg.field) return agg.fn;
  return `${agg.fn}_${agg.field}`.replace(/[^A-Za-z0-9_]/g, "_");
}

const BUCKET_MS: Record<Bucket, number> = { "1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "1d": 86_400_000 };

/** A heat map reads best with a few dozen columns: the finest bucket giving at most 48
 * over the range (never finer than the range's own bucket). */
export function heatmapBucket(range: ResolvedRange): Bucket {
  const span = Date.parse(range.to) - Date.parse(range.from);
  const start = BUCKETS.indexOf(range.bucket);
  for (const bucket of BUCKETS.slice(Math.max(0, start))) {
    if (span / BUCKET_MS[bucket] <= 48) return bucket;
  }
  return "1d";
}

/** The query a panel runs over ``range``: its own plus the time range, and for the kinds
 * drawn over time a bucket of the range's size when it has none. */
export function buildQuery(panel: Pick<Panel, "kind" | "query">, range: ResolvedRange): TypedQuery {
  const q = panel.query;
  let groupBy = [...(q.group_by ?? [])];
  if (isSeriesKind(panel.kind) && !groupBy.some(isBucketKey)) {
    const bucket = panel.kind === "heatmap" ? heatmapBucket(range) : range.bucket;
    groupBy = [...groupBy, { bucket }];
  }
  const typed: TypedQuery = {
    time_range: { from: range.from, to: range.to },
    limit: q.limit ?? 100,
  };
  if (q.filters?.length) typed.filters = q.filters;
  if (groupBy.length) typed.group_by = groupBy;
  if (q.aggregates?.length) typed.aggregates = q.aggregates;
  if (q.order_by?.length) typed.order_by = q.order_by.map((o) => ({ field: o.field, direction: o.direction ?? "asc" }));
  return typed;
}

// ---------------------------------------------------------------------------------------
// Filters as `field:op:value` lines (the explorer's syntax)

const NUMBER_FIELDS = new Set([
  "input_tokens",
  "output_tokens",
  "cached_input_tokens",
  "reasoning_tokens",
  "total_tokens",
  "latency_ms",
  "ttft_ms",
  "cost_usd",
]);

function typedValue(field: string, text: string): string | number | boolean {
  const numeric = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text);
  if (NUMBER_FIELDS.has(field) && numeric) return Number(text);
  if (field.startsWith("payload.")) {
    if (numeric) return Number(text);
    if (text === "true" || text === "false") return text === "true";
  }
  return text;
}

const LINE_RE = new RegExp(`^(.+?):(${[...FILTER_OPS].sort((a, b) => b.length - a.length).join("|")}):(.*)$`);

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** One filter per non-empty line; ``in``/``not_in`` take comma-separated values; an
 * empty value means "the field is missing" (null). */
export function parseFilterLines(text: string): Parsed<QueryFilter[]> {
  const filters: QueryFilter[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (!line) continue;
    const match = LINE_RE.exec(line);
    if (!match) {
      return {
        ok: false,
        error: `Line ${i + 1} ("${line.slice(0, 60)}") is not field:op:value; op is one of ${FILTER_OPS.join(", ")}.`,
      };
    }
    const field = (match[1] as string).trim();
    const op = match[2] as QueryFilter["op"];
    const raw = (match[3] as string).trim();
    let value: QueryFilter["value"];
    if (op === "in" || op === "not_in") {
      const parts = raw.split(",").map((s) => s.trim()).filter(Boolean);
      if (parts.length === 0) return { ok: false, error: `Line ${i + 1}: ${op} needs one or more comma-separated values.` };
      value = parts.map((p) => {
        const v = typedValue(field, p);
        return typeof v === "boolean" ? String(v) : v;
      });
    } else {
      value = raw === "" ? null : typedValue(field, raw);
    }
    filters.push({ field, op, value });
  }
  return { ok: true, value: filters };
}

export function formatFilterLines(filters: QueryFilter[] | undefined): string {
  return (filters ?? [])
    .map((f) => {
      const v = f.value;
      const text = v === null || v === undefined ? "" : Array.isArray(v) ? v.join(",") : String(v);
      return `${f.field}:${f.op ?? "eq"}:${text}`;
    })
    .join("\n");
}

// ---------------------------------------------------------------------------------------
// The simple form of the panel editor: one metric, one dimension, the filters

export interface SimpleQuery {
  fn: AggregateFn;
  field: string; // "" for a count of events
  dimension: string; // "" for none
}

export function simpleOf(query: PanelQuery): SimpleQuery {
  const agg = query.aggregates?.[0];
  return {
    fn: agg?.fn ?? "count",
    field: agg?.field ?? "",
    dimension: dimensionsOf(query)[0] ?? "",
  };
}

/** True when the query has more than the simple form shows (it keeps the rest). */
export function exceedsSimple(query: PanelQuery): boolean {
  return (query.aggregates?.length ?? 0) > 1 || dimensionsOf(query).length > 1;
}

/** ``query`` with its first aggregate and first dimension replaced; an ``order_by`` on the
 * old aggregate follows it to its new name. */
export function applySimple(query: PanelQuery, simple: SimpleQuery): PanelQuery {
  const field = simple.field.trim();
  const newAgg: Aggregate = field ? { fn: simple.fn, field } : { fn: simple.fn };
  const aggregates = [...(query.aggregates ?? [])];
  const old = aggregates[0];
  const oldAlias = old ? aggregateAlias(old) : null;
  // Keep a chosen name only while the metric is the same one.
  if (old?.as && old.fn === newAgg.fn && (old.field ?? "") === field) newAgg.as = old.as;
  aggregates[0] = newAgg;
  const newAlias = aggregateAlias(newAgg);

  const dimension = simple.dimension.trim();
  const groupBy: GroupKey[] = [];
  let replaced = false;
  for (const key of query.group_by ?? []) {
    if (typeof key === "string" && !replaced) {
      replaced = true;
      if (dimension) groupBy.push(dimension);
    } else groupBy.push(key);
  }
  if (!replaced && dimension) groupBy.unshift(dimension);
  const oldDimension = dimensionsOf(query)[0];

  const orderBy = (query.order_by ?? [])
    .map((o) => (oldAlias !== null && o.field === oldAlias ? { ...o, field: newAlias } : o))
    .filter((o) => !(oldDimension && !dimension && o.field === oldDimension))
    .map((o) => (oldDimension && dimension && o.field === oldDimension ? { ...o, field: dimension } : o));

  const next: PanelQuery = { ...query, aggregates, group_by: groupBy };
  if (orderBy.length) next.order_by = orderBy;
  else delete next.order_by;
  if (!groupBy.length) delete next.group_by;
  return next;
}

// ---------------------------------------------------------------------------------------
// The advanced editor: a query as JSON

const QUERY_KEYS = new Set(["filters", "group_by", "aggregates", "order_by", "limit"]);

function describe(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 60) ?? String(value);
}

/** The query in ``text``, checked for shape (the hub checks fields and types when it runs). */
export function parsePanelQuery(text: string): Parsed<PanelQuery> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `Not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, error: "The query must be a JSON object such as {\"aggregates\": [{\"fn\": \"count\"}]}." };
  }
  const obj = data as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key === "time_range") return { ok: false, error: "Remove time_range: the dashboard's time range applies to every panel." };
    if (key === "cursor") return { ok: false, error: "Remove cursor: a panel always starts at the first page." };
    if (!QUERY_KEYS.has(key)) {
      return { ok: false, error: `Unknown key "${key}": a panel query has ${[...QUERY_KEYS].join(", ")}.` };
    }
  }
  const query: PanelQuery = {};
  if (obj.filters !== undefined) {
    if (!Array.isArray(obj.filters)) return { ok: false, error: "filters must be a list." };
    for (const [i, f] of obj.filters.entries()) {
      const item = f as Record<string, unknown> | null;
      if (typeof item !== "object" || item === null || typeof item.field !== "string") {
        return { ok: false, error: `filters.${i} must be {"field": …, "op": …, "value": …}.` };
      }
      if (item.op !== undefined && !FILTER_OPS.includes(item.op as QueryFilter["op"])) {
        return { ok: false, error: `filters.${i}.op ${describe(item.op)} is not one of ${FILTER_OPS.join(", ")}.` };
      }
    }
    query.filters = obj.filters as QueryFilter[];
  }
  if (obj.group_by !== undefined) {
    if (!Array.isArray(obj.group_by)) return { ok: false, error: "group_by must be a list." };
    for (const [i, k] of obj.group_by.entries()) {
      const bucketOk = typeof k === "object" && k !== null && BUCKETS.includes((k as { bucket?: Bucket }).bucket as Bucket);
      if (typeof k !== "string" && !bucketOk) {
        return { ok: false, error: `group_by.${i} must be a field name or {"bucket": one of ${BUCKETS.join(", ")}}.` };
      }
    }
    query.group_by = obj.group_by as GroupKey[];
  }
  if (obj.aggregates !== undefined) {
    if (!Array.isArray(obj.aggregates)) return { ok: false, error: "aggregates must be a list." };
    for (const [i, a] of obj.aggregates.entries()) {
      const item = a as Record<string, unknown> | null;
      if (typeof item !== "object" || item === null || !AGGREGATE_FNS.includes(item.fn as AggregateFn)) {
        return { ok: false, error: `aggregates.${i}.fn must be one of ${AGGREGATE_FNS.join(", ")}.` };
      }
    }
    query.aggregates = obj.aggregates as Aggregate[];
  }
  if (obj.order_by !== undefined) {
    if (!Array.isArray(obj.order_by)) return { ok: false, error: "order_by must be a list." };
    for (const [i, o] of obj.order_by.entries()) {
      const item = o as Record<string, unknown> | null;
      if (typeof item !== "object" || item === null || typeof item.field !== "string") {
        return { ok: false, error: `order_by.${i} must be {"field": …, "direction": "asc" or "desc"}.` };
      }
      if (item.direction !== undefined && item.direction !== "asc" && item.direction !== "desc") {
        return { ok: false, error: `order_by.${i}.direction must be "asc" or "desc".` };
      }
    }
    query.order_by = obj.order_by as OrderBy[];
  }
  if (obj.limit !== undefined) {
    if (typeof obj.limit !== "number" || !Number.isInteger(obj.limit) || obj.limit < 1) {
      return { ok: false, error: "limit must be a whole number of at least 1." };
    }
    query.limit = obj.limit;
  }
  return { ok: true, value: query };
}

export function formatQueryJson(query: PanelQuery): string {
  return JSON.stringify(query, null, 2);
}

// ---------------------------------------------------------------------------------------
// What a panel draws

export type ValueFormat = "count" | "cost" | "ms" | "number";

const UNITS: Record<string, ValueFormat> = { usd: "cost", ms: "ms", count: "count", number: "number" };

/** How to show an aggregate's values: money, durations, counts or plain numbers; a panel's
 * ``options.unit`` ("usd", "ms", "count", "number") overrides what the field suggests. */
export function valueFormat(agg: Aggregate | undefined, options?: Record<string, unknown>): ValueFormat {
  const unit = typeof options?.unit === "string" ? UNITS[options.unit] : undefined;
  if (unit) return unit;
  if (!agg) return "number";
  if (agg.fn === "count" || agg.fn === "count_distinct") return "count";
  const field = agg.field ?? "";
  if (field === "cost_usd") return "cost";
  if (field === "latency_ms" || field === "ttft_ms") return "ms";
  if (field.endsWith("_tokens") && agg.fn === "sum") return "count";
  return "number";
}

const ADDITIVE = new Set<AggregateFn>(["count", "sum"]);

export interface SeriesShape {
  data: Record<string, unknown>[];
  series: Series[];
  /** The aggregate drawn (the first one when the rows are split by a dimension). */
  aggregate: Aggregate | undefined;
  /** Set when something of the rows is not drawn (said under the chart). */
  note: string | null;
}

const COMBINED = "__series";

/** The column of ``row`` that holds ``dimension`` (the group-by name as a rule). */
function dimensionColumn(rows: QueryRow[], dimension: string, taken: Set<string>): string {
  const first = rows[0];
  if (!first || dimension in first) return dimension;
  return Object.keys(first).find((k) => !taken.has(k)) ?? dimension;
}

/** Label rows by their dimensions, joined with " · " when there are several. */
function labelled(rows: QueryRow[], query: PanelQuery): { rows: QueryRow[]; dimension: string | null } {
  const aliases = new Set((query.aggregates ?? []).map(aggregateAlias));
  const taken = new Set([...aliases, "bucket"]);
  const dims = dimensionsOf(query).map((d) => {
    const col = dimensionColumn(rows, d, taken);
    taken.add(col);
    return col;
  });
  if (dims.length === 0) return { rows, dimension: null };
  if (dims.length === 1) return { rows, dimension: dims[0] as string };
  const none = (v: unknown) => (v === null || v === undefined || v === "" ? "(none)" : String(v));
  return {
    rows: rows.map((r) => ({ ...r, [COMBINED]: dims.map((d) => none(r[d])).join(" · ") })),
    dimension: COMBINED,
  };
}

/** Rows of a bucketed query made into chart data: one series per aggregate, or (with a
 * dimension) one per dimension value of the first aggregate, top 8 by total. Buckets
 * without rows are filled in: 0 for counts and sums, a gap for the rest. */
export function shapeSeries(rows: QueryRow[], query: PanelQuery, bucketStarts: string[] = []): SeriesShape {
  const aggs = query.aggregates ?? [];
  const first = aggs[0];
  if (!first) {
    return { data: [], series: [], aggregate: undefined, note: "Add an aggregate (a metric) to draw this over time." };
  }
  const { rows: named, dimension } = labelled(rows, query);
  let data: Record<string, unknown>[];
  let series: Series[];
  const notes: string[] = [];
  if (dimension) {
    const alias = aggregateAlias(first);
    const wide = pivot(named, dimension, alias, 8);
    data = wide.data;
    series = wide.series;
    if (!ADDITIVE.has(first.fn) && series.some((s) => s.key === "(other)")) {
      // A p95 or an average does not add up: the rest is left out rather than summed.
      series = series.filter((s) => s.key !== "(other)");
      data = data.map(({ ["(other)"]: _dropped, ...keep }) => keep);
      notes.push("Showing the top 8 values by total; the rest are not drawn.");
    }
    if (aggs.length > 1) notes.push(`Only ${alias} is drawn when the rows are split by ${dimensionsOf(query).join(", ")}.`);
  } else {
    data = [...named].sort((a, b) => String(a.bucket).localeCompare(String(b.bucket)));
    series = aggs.map((a) => ({ key: aggregateAlias(a), label: aggregateAlias(a) }));
  }
  if (bucketStarts.length > 0 && bucketStarts.length <= 5000) {
    const fillZero = dimension ? ADDITIVE.has(first.fn) : false;
    data = fill(data, bucketStarts, series, (key) =>
      dimension ? (fillZero ? 0 : null) : ADDITIVE.has(aggs.find((a) => aggregateAlias(a) === key)?.fn ?? "avg") ? 0 : null,
    );
  }
  return { data, series, aggregate: first, note: notes.length ? notes.join(" ") : null };
}

function fill(
  data: Record<string, unknown>[],
  starts: string[],
  series: Series[],
  empty: (key: string) => number | null,
): Record<string, unknown>[] {
  const have = new Map(data.map((row) => [Date.parse(String(row.bucket)), row]));
  return starts.map((start) => {
    const found = have.get(Date.parse(start));
    if (found) return found;
    const row: Record<string, unknown> = { bucket: start };
    for (const s of series) row[s.key] = empty(s.key);
    return row;
  });
}

export interface HeatShape {
  rows: QueryRow[];
  dimension: string | null;
  value: string | null;
  aggregate: Aggregate | undefined;
}

/** Rows for a heat map: time buckets by one dimension (several are joined), first aggregate. */
export function shapeHeatmap(rows: QueryRow[], query: PanelQuery): HeatShape {
  const first = query.aggregates?.[0];
  const { rows: named, dimension } = labelled(rows, query);
  return { rows: named, dimension, value: first ? aggregateAlias(first) : null, aggregate: first };
}

/** The value a "single number" panel shows: the first aggregate of the first row. */
export function singleNumber(rows: QueryRow[], query: PanelQuery): { value: number | null; label: string | null } {
  const first = query.aggregates?.[0];
  const row = rows[0];
  if (!first || !row) return { value: null, label: null };
  const raw = row[aggregateAlias(first)];
  const value = raw === null || raw === undefined || Number.isNaN(Number(raw)) ? null : Number(raw);
  const dims = dimensionsOf(query);
  const label = dims.length ? dims.map((d) => `${d} = ${row[d] ?? "(none)"}`).join(", ") : null;
  return { value, label };
}

export interface TableColumn {
  key: string;
  numeric: boolean;
  aggregate?: Aggregate;
}

/** The columns of a table panel: group keys, then aggregates, then anything else. */
export function tableColumns(rows: QueryRow[], query: PanelQuery): TableColumn[] {
  const aggs = query.aggregates ?? [];
  const byAlias = new Map(aggs.map((a) => [aggregateAlias(a), a]));
  const keys: string[] = [];
  const add = (k: string) => {
    if (!keys.includes(k)) keys.push(k);
  };
  for (const g of query.group_by ?? []) add(isBucketKey(g) ? "bucket" : g);
  for (const a of aggs) add(aggregateAlias(a));
  for (const row of rows.slice(0, 50)) for (const k of Object.keys(row)) add(k);
  const present = new Set(rows.flatMap((r) => Object.keys(r)));
  return keys
    .filter((k) => rows.length === 0 || present.has(k))
    .map((key) => {
      const aggregate = byAlias.get(key);
      return aggregate ? { key, numeric: true, aggregate } : { key, numeric: false };
    });
}

// ---------------------------------------------------------------------------------------
// New dashboards and panels

let counter = 0;

/** A panel id the hub accepts (1–64 letters, digits, _ and -), unique in ``taken``. */
export function newPanelId(taken: Iterable<string> = []): string {
  const used = new Set(taken);
  for (;;) {
    counter += 1;
    const id = `p${Date.now().toString(36)}${counter.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
    if (!used.has(id)) return id;
  }
}

const CALLS: QueryFilter = { field: "payload_subtype", op: "eq", value: "llm_call" };

/** The panels a new dashboard starts with, so that it is never blank. */
export function examplePanels(): Panel[] {
  return [
    {
      id: "requests",
      title: "Requests per hour",
      kind: "bar",
      query: {
        filters: [CALLS],
        group_by: [{ bucket: "1h" }],
        aggregates: [{ fn: "count", as: "requests" }],
        limit: 1000,
      },
      layout: { x: 0, y: 0, w: 6, h: 8 },
    },
    {
      id: "p95_latency",
      title: "p95 latency by model",
      kind: "line",
      query: {
        filters: [CALLS],
        group_by: ["model_id"],
        aggregates: [{ fn: "p95", field: "latency_ms", as: "p95_latency_ms" }],
        limit: 1000,
      },
      layout: { x: 6, y: 0, w: 6, h: 8 },
    },
    {
      id: "cost_by_model",
      title: "Cost by model",
      kind: "table",
      query: {
        filters: [CALLS],
        group_by: ["model_id"],
        aggregates: [
          { fn: "sum", field: "cost_usd", as: "cost_usd" },
          { fn: "count", as: "requests" },
          { fn: "sum", field: "total_tokens", as: "tokens" },
        ],
        order_by: [{ field: "cost_usd", direction: "desc" }],
        limit: 20,
      },
      layout: { x: 0, y: 8, w: 12, h: 7 },
    },
  ];
}

export function newDashboardDocument(name = "New dashboard"): DashboardDocument {
  return {
    name,
    description: null,
    time_range: { relative: "24h" },
    refresh_seconds: null,
    panels: examplePanels(),
  };
}

/** A panel to add: a line of requests over time, below everything else. */
export function blankPanel(panels: Panel[]): Panel {
  const bottom = panels.reduce((max, p) => Math.max(max, p.layout.y + p.layout.h), 0);
  return {
    id: newPanelId(panels.map((p) => p.id)),
    title: "Requests",
    kind: "line",
    query: {
      filters: [CALLS],
      aggregates: [{ fn: "count", as: "requests" }],
      limit: 1000,
    },
    layout: { x: 0, y: bottom, w: 6, h: 8 },
  };
}

export function duplicatePanel(panels: Panel[], id: string): Panel[] {
  const source = panels.find((p) => p.id === id);
  if (!source) return panels;
  const copy: Panel = {
    ...structuredClone(source),
    id: newPanelId(panels.map((p) => p.id)),
    title: source.title ? `${source.title} (copy)` : "",
    layout: { ...source.layout, y: source.layout.y + source.layout.h },
  };
  const index = panels.indexOf(source);
  return [...panels.slice(0, index + 1), copy, ...panels.slice(index + 1)];
}

// ---------------------------------------------------------------------------------------
// Documents: what is sent, compared and exported

/** The document without the hub's bookkeeping, in the form the hub takes. */
export function documentOf(d: DashboardDocument): DashboardDocument {
  const tr = d.time_range;
  const time_range: DashboardTimeRange = tr.relative ? { relative: tr.relative } : { from: tr.from ?? null, to: tr.to ?? null };
  const doc: DashboardDocument = {
    name: d.name,
    description: d.description ?? null,
    time_range,
    refresh_seconds: d.refresh_seconds ?? null,
    panels: d.panels.map((p) => {
      const panel: Panel = { id: p.id, title: p.title ?? "", kind: p.kind, query: p.query, layout: p.layout };
      if (p.options && Object.keys(p.options).length) panel.options = p.options;
      return panel;
    }),
  };
  return doc;
}

/** Whether two documents say the same (key order and omitted defaults aside). */
export function sameDocument(a: DashboardDocument, b: DashboardDocument): boolean {
  return stableJson(normalised(a)) === stableJson(normalised(b));
}

function normalised(d: DashboardDocument): unknown {
  const doc = documentOf(d);
  return {
    ...doc,
    description: doc.description || null,
    panels: doc.panels.map((p) => ({
      ...p,
      options: p.options ?? {},
      query: {
        filters: p.query.filters ?? [],
        group_by: p.query.group_by ?? [],
        aggregates: (p.query.aggregates ?? []).map((a) => ({ fn: a.fn, field: a.field ?? null, as: a.as ?? null })),
        order_by: (p.query.order_by ?? []).map((o) => ({ field: o.field, direction: o.direction ?? "asc" })),
        limit: p.query.limit ?? 100,
      },
    })),
  };
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** An imported file's dashboard, in the form POST takes; an error that says what is wrong. */
export function parseImport(text: string): Parsed<DashboardDocument> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, error: "This file is not JSON. Choose a file made by Export JSON." };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, error: "This file is not a dashboard: expected a JSON object with a name and panels." };
  }
  const obj = data as Record<string, unknown>;
  if (typeof obj.name !== "string" || !obj.name.trim()) {
    return { ok: false, error: "This file is not a dashboard: it has no \"name\"." };
  }
  if (obj.panels !== undefined && !Array.isArray(obj.panels)) {
    return { ok: false, error: "This file is not a dashboard: \"panels\" is not a list." };
  }
  const doc: DashboardDocument = {
    name: obj.name,
    description: typeof obj.description === "string" ? obj.description : null,
    time_range: (obj.time_range as DashboardTimeRange) ?? { relative: "24h" },
    refresh_seconds: typeof obj.refresh_seconds === "number" ? obj.refresh_seconds : null,
    panels: (obj.panels as Panel[] | undefined) ?? [],
  };
  // Send the panels as they are: the hub's 400 names whatever is wrong in them.
  return { ok: true, value: { ...doc, time_range: documentOf(doc).time_range } };
}

/** A file name for an export: the dashboard's name, lower case, dashes. */
export function exportFileName(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return `${slug || "dashboard"}.json`;
}

/** "panels.2.query: …" from the hub made readable with the panel's title. */
export function explainSaveError(message: string, panels: Panel[]): string {
  const match = /^panels\.(\d+)/.exec(message);
  if (!match) return message;
  const panel = panels[Number(match[1])];
  if (!panel) return message;
  return `Panel "${panel.title || "Untitled"}" (number ${Number(match[1]) + 1}): ${message}`;
}
