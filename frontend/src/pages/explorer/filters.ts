// The explorer's filters: the field catalogue of the query API (docs/api/query.md), the
// URL form `field:op:value` (repeated `f=` parameters, as lib/links.ts writes them), and
// the typed {field, op, value} the live feed subscribes with. Pure, unit-tested.
import type { Filter } from "../../api/types";

export type FieldKind =
  | "timestamp"
  | "uuid"
  | "severity"
  | "string"
  | "integer"
  | "number"
  | "tag"
  | "payload";

export type Op =
  | "eq"
  | "ne"
  | "in"
  | "not_in"
  | "gt"
  | "gte"
  | "lt"
  | "lte"
  | "contains"
  | "starts_with";

export interface FieldDef {
  name: string;
  kind: FieldKind;
  group: string;
  /** Rollup dimensions (answered fast, and what the other pages link with). */
  dimension?: boolean;
}

const EQUALITY: readonly Op[] = ["eq", "ne", "in", "not_in"];
const ORDER: readonly Op[] = ["gt", "gte", "lt", "lte"];
const TEXT: readonly Op[] = ["contains", "starts_with"];

/** Which operators apply to each kind of field (the "operators" column of the docs). */
export const OPS_BY_KIND: Record<FieldKind, readonly Op[]> = {
  timestamp: [...EQUALITY, ...ORDER],
  uuid: EQUALITY,
  severity: [...EQUALITY, ...ORDER],
  string: [...EQUALITY, ...TEXT],
  integer: [...EQUALITY, ...ORDER],
  number: [...EQUALITY, ...ORDER],
  tag: [...EQUALITY, ...TEXT],
  payload: [...EQUALITY, ...ORDER, ...TEXT],
};

export const OP_LABELS: Record<Op, string> = {
  eq: "equals (=)",
  ne: "does not equal (≠)",
  in: "is one of (in)",
  not_in: "is none of (not in)",
  gt: "greater than (>)",
  gte: "at least (≥)",
  lt: "less than (<)",
  lte: "at most (≤)",
  contains: "contains",
  starts_with: "starts with",
};

/** Short forms for the chips of active filters. */
export const OP_SYMBOLS: Record<Op, string> = {
  eq: "=",
  ne: "≠",
  in: "in",
  not_in: "not in",
  gt: ">",
  gte: "≥",
  lt: "<",
  lte: "≤",
  contains: "contains",
  starts_with: "starts with",
};

export const ALL_OPS = Object.keys(OP_LABELS) as Op[];

export const SEVERITIES = ["debug", "info", "warning", "error", "critical"] as const;

/** The named fields of the query API, in the order of docs/api/query.md. */
export const FIELDS: readonly FieldDef[] = [
  { name: "timestamp", kind: "timestamp", group: "Time" },
  { name: "received_at", kind: "timestamp", group: "Time" },
  { name: "severity", kind: "severity", group: "Event" },
  { name: "source_module", kind: "string", group: "Event", dimension: true },
  { name: "event_type", kind: "string", group: "Event", dimension: true },
  { name: "payload_type", kind: "string", group: "Event" },
  { name: "payload_subtype", kind: "string", group: "Event", dimension: true },
  { name: "environment", kind: "string", group: "Event" },
  { name: "schema_version", kind: "string", group: "Event" },
  { name: "asset_id", kind: "string", group: "Model call", dimension: true },
  { name: "model_id", kind: "string", group: "Model call", dimension: true },
  { name: "provider", kind: "string", group: "Model call", dimension: true },
  { name: "status", kind: "string", group: "Model call", dimension: true },
  { name: "operation", kind: "string", group: "Model call" },
  { name: "error_type", kind: "string", group: "Model call" },
  { name: "cost_source", kind: "string", group: "Model call" },
  { name: "user_id", kind: "string", group: "Model call" },
  { name: "session_id", kind: "string", group: "Model call" },
  { name: "request_id", kind: "string", group: "Model call" },
  { name: "latency_ms", kind: "number", group: "Measurements" },
  { name: "ttft_ms", kind: "number", group: "Measurements" },
  { name: "cost_usd", kind: "number", group: "Measurements" },
  { name: "input_tokens", kind: "integer", group: "Measurements" },
  { name: "output_tokens", kind: "integer", group: "Measurements" },
  { name: "cached_input_tokens", kind: "integer", group: "Measurements" },
  { name: "reasoning_tokens", kind: "integer", group: "Measurements" },
  { name: "total_tokens", kind: "integer", group: "Measurements" },
  { name: "event_id", kind: "uuid", group: "Identifiers" },
  { name: "parent_event_id", kind: "uuid", group: "Identifiers" },
  { name: "correlation_id", kind: "string", group: "Identifiers" },
  { name: "trace_id", kind: "string", group: "Identifiers" },
  { name: "span_id", kind: "string", group: "Identifiers" },
];

const BY_NAME = new Map(FIELDS.map((f) => [f.name, f]));

export const TAG_PREFIX = "tags.";
export const PAYLOAD_PREFIX = "payload.";
// As the hub checks them (query/fields.py): a tag key is 1–128 letters, digits and
// `_ . : / -`; a payload path is 1–16 dot-separated names or array indexes.
const TAG_KEY_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}$/;
const PAYLOAD_SEGMENT_RE = /^(?:[A-Za-z_][A-Za-z0-9_]{0,63}|[0-9]{1,6})$/;
const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The kind of a field name: a catalogue field, `tags.<key>` or `payload.<path>`; null if none. */
export function fieldKind(name: string): FieldKind | null {
  const known = BY_NAME.get(name);
  if (known) return known.kind;
  if (name.startsWith(TAG_PREFIX)) return TAG_KEY_RE.test(name.slice(TAG_PREFIX.length)) ? "tag" : null;
  if (name.startsWith(PAYLOAD_PREFIX)) return validPayloadPath(name.slice(PAYLOAD_PREFIX.length)) ? "payload" : null;
  return null;
}

function validPayloadPath(path: string): boolean {
  const segments = path.split(".");
  return segments.length >= 1 && segments.length <= 16 && segments.every((s) => PAYLOAD_SEGMENT_RE.test(s));
}

/** What is wrong with a field name, or null when the hub will accept it. */
export function fieldProblem(name: string): string | null {
  if (!name) return "Choose a field.";
  if (BY_NAME.has(name)) return null;
  if (name === TAG_PREFIX || name === "tags") return "Enter a tag key, e.g. team.";
  if (name.startsWith(TAG_PREFIX)) {
    const key = name.slice(TAG_PREFIX.length);
    // A colon cannot travel in `field:op:value`: the hub splits at the first colons.
    if (key.includes(":")) return `Tag key "${key}" contains ":", which a filter in the address cannot carry.`;
    return TAG_KEY_RE.test(key) ? null : `Tag key "${key}" may hold only letters, digits and _ . / - (up to 128).`;
  }
  if (name === PAYLOAD_PREFIX || name === "payload") return "Enter a payload path, e.g. threat_type.";
  if (name.startsWith(PAYLOAD_PREFIX)) {
    const path = name.slice(PAYLOAD_PREFIX.length);
    return validPayloadPath(path)
      ? null
      : `Payload path "${path}" must be 1–16 dot-separated names or array indexes, e.g. findings.0.status.`;
  }
  return `Unknown field "${name}". Pick one from the list, or use tags.<key> or payload.<path>.`;
}

export function opsFor(kind: FieldKind | null): readonly Op[] {
  return kind ? OPS_BY_KIND[kind] : ALL_OPS;
}

export function isOp(text: string): text is Op {
  return Object.prototype.hasOwnProperty.call(OP_LABELS, text);
}

export function isListOp(op: string): boolean {
  return op === "in" || op === "not_in";
}

/** One filter as the URL keeps it; `value` is the raw text (comma-separated for in/not_in). */
export interface UrlFilter {
  field: string;
  op: string;
  value: string;
}

/**
 * `field:op:value` split at the first two colons (values may hold colons, e.g. times),
 * exactly as the hub splits its `filter=` parameters. Null when there are not two parts.
 */
export function parseFilter(text: string): UrlFilter | null {
  const first = text.indexOf(":");
  if (first <= 0) return null;
  const second = text.indexOf(":", first + 1);
  if (second < 0 || second === first + 1) return null;
  return { field: text.slice(0, first), op: text.slice(first + 1, second), value: text.slice(second + 1) };
}

export function formatFilter(f: UrlFilter): string {
  return `${f.field}:${f.op}:${f.value}`;
}

/** The values of in/not_in, trimmed (the builder writes them so; the hub splits at commas). */
export function listValues(value: string): string[] {
  return value.split(",").map((v) => v.trim());
}

/** A human form for a chip: `model_id = gpt-4o`, `status in ok, error`. */
export function describeFilter(text: string): string {
  const f = parseFilter(text);
  if (!f) return text;
  const symbol = isOp(f.op) ? OP_SYMBOLS[f.op] : f.op;
  const value = isListOp(f.op) ? listValues(f.value).join(", ") : f.value === "" ? '""' : f.value;
  return `${f.field} ${symbol} ${value}`;
}

/** The hub's reading of a query-string value for a numeric field: int, float, else text. */
function asNumber(text: string): number | string {
  const t = text.trim();
  if (NUMBER_RE.test(t)) {
    const n = Number(t);
    if (Number.isFinite(n)) return n;
  }
  return text;
}

function numericKind(kind: FieldKind | null): boolean {
  return kind === "integer" || kind === "number" || kind === "payload";
}

/**
 * A URL filter as the typed {field, op, value} of the live feed and the query API: numbers
 * for numeric fields (and payload paths whose value reads as a number), arrays for in/not_in.
 * It mirrors how the hub reads `filter=` parameters, so the live rows match the list.
 * Null when the text is not `field:op:value`.
 */
export function toTypedFilter(text: string): Filter | null {
  const f = parseFilter(text);
  if (!f) return null;
  const kind = fieldKind(f.field);
  const convert = (v: string): string | number => (numericKind(kind) ? asNumber(v) : v);
  if (isListOp(f.op)) {
    // Split at every comma as the hub does; the builder writes the values trimmed.
    const values = f.value.split(",").map(convert);
    return { field: f.field, op: f.op, value: values };
  }
  return { field: f.field, op: f.op, value: convert(f.value) };
}

/** All filters for the live feed, or null if any of them cannot be converted. */
export function toTypedFilters(texts: readonly string[]): Filter[] | null {
  const out: Filter[] = [];
  for (const t of texts) {
    const typed = toTypedFilter(t);
    if (!typed) return null;
    out.push(typed);
  }
  return out;
}

/** What is wrong with a filter being built, or null when it can be added. */
export function filterProblem(f: UrlFilter): string | null {
  const fieldIssue = fieldProblem(f.field);
  if (fieldIssue) return fieldIssue;
  const kind = fieldKind(f.field) as FieldKind;
  if (!isOp(f.op)) return `Unknown operator "${f.op}".`;
  if (!OPS_BY_KIND[kind].includes(f.op)) {
    return `"${OP_SYMBOLS[f.op]}" does not apply to ${f.field}; use ${OPS_BY_KIND[kind].map((o) => OP_SYMBOLS[o]).join(", ")}.`;
  }
  const list = isListOp(f.op);
  const values = list ? listValues(f.value) : [f.value];
  if (list && values.every((v) => v === "")) return "Enter one or more values, separated by commas.";
  if (list && values.some((v) => v === "")) return "Remove the empty value between commas.";
  if (list && values.length > 1000) return "Use at most 1,000 values.";
  for (const v of values) {
    const issue = valueProblem(f.field, kind, f.op, v);
    if (issue) return issue;
  }
  return null;
}

function valueProblem(field: string, kind: FieldKind, op: Op, value: string): string | null {
  const ordered = op === "gt" || op === "gte" || op === "lt" || op === "lte";
  if (value.trim() === "") {
    // An empty value compares with the empty text; it suits text fields only.
    return kind === "string" || kind === "tag" ? null : `Enter a value for ${field}.`;
  }
  switch (kind) {
    case "integer":
      return /^[+-]?\d+$/.test(value.trim()) ? null : `${field} takes a whole number, e.g. 1000.`;
    case "number":
      return NUMBER_RE.test(value.trim()) ? null : `${field} takes a number, e.g. 2500 or 0.01.`;
    case "severity":
      return (SEVERITIES as readonly string[]).includes(value)
        ? null
        : `severity is one of ${SEVERITIES.join(", ")}.`;
    case "uuid":
      return UUID_RE.test(value.trim()) ? null : `${field} takes a UUID, e.g. 0194a1b2-0000-7000-8000-000000000001.`;
    case "timestamp": {
      const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value.trim());
      return zoned && !Number.isNaN(Date.parse(value))
        ? null
        : `${field} takes an RFC 3339 time with a zone, e.g. 2025-01-31T12:00:00Z.`;
    }
    case "payload":
      return ordered && typeof asNumber(value) !== "number" ? `${field} ${OP_SYMBOLS[op]} needs a number.` : null;
    default:
      return value.length > 4096 ? "Values are at most 4,096 characters." : null;
  }
}

/** The filters of the URL (repeated `f=` parameters), in order, empty ones left out. */
export function filtersFromParams(params: URLSearchParams): string[] {
  return params.getAll("f").filter((f) => f.trim() !== "");
}

/** `params` (a copy) with `filters` as its `f=` parameters; other parameters are kept. */
export function withFilters(params: URLSearchParams, filters: readonly string[]): URLSearchParams {
  const next = new URLSearchParams(params);
  next.delete("f");
  for (const f of filters) next.append("f", f);
  return next;
}

/** `filters` plus `added` (not twice). */
export function addFilter(filters: readonly string[], added: string): string[] {
  return filters.includes(added) ? [...filters] : [...filters, added];
}

export function removeFilterAt(filters: readonly string[], index: number): string[] {
  return filters.filter((_, i) => i !== index);
}
