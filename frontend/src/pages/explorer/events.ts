// Reading the columns of the explorer's table out of an event envelope, and merging the
// live feed into the fetched list. Pure, unit-tested.
import type { EventEnvelope } from "../../api/types";

/** Live rows kept at most; older live rows fall off (a refresh shows them again). */
export const LIVE_CAP = 500;

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The normalised payload data (`payload.data`). */
export function payloadData(e: EventEnvelope): Record<string, unknown> {
  return record(record(e.payload).data);
}

/** `telemetry`, `security`, ... (`payload.payload_type`, else the event type). */
export function payloadType(e: EventEnvelope): string | null {
  const payload = record(e.payload);
  return text(payload.payload_type) ?? text(payload.type) ?? text(e.event_type);
}

/** The variant: `llm_call`, `threat`, ... (`data.<type>_type`, or `custom_type`). */
export function payloadSubtype(e: EventEnvelope): string | null {
  const payload = record(e.payload);
  const data = payloadData(e);
  const type = payloadType(e);
  return (
    (type ? text(data[`${type}_type`]) : null) ??
    text(data.custom_type) ??
    text(payload.payload_subtype) ??
    text(payload.subtype)
  );
}

/** `telemetry / llm_call` */
export function typeLabel(e: EventEnvelope): string {
  const type = payloadType(e) ?? "–";
  const sub = payloadSubtype(e);
  return sub ? `${type} / ${sub}` : type;
}

export function modelOf(e: EventEnvelope): string | null {
  return text(payloadData(e).model_id);
}

export function statusOf(e: EventEnvelope): string | null {
  return text(payloadData(e).status);
}

export function latencyOf(e: EventEnvelope): number | null {
  return num(payloadData(e).latency_ms);
}

/** The cost the hub stored (`hub.cost_usd`: computed from prices when not sent). */
export function costOf(e: EventEnvelope): number | null {
  return num(record(e.hub).cost_usd) ?? num(payloadData(e).cost_usd);
}

function time(e: EventEnvelope): number {
  const t = Date.parse(e.timestamp);
  return Number.isNaN(t) ? 0 : t;
}

/** Newest first; ties by id, descending (the API's order). */
export function newestFirst(a: EventEnvelope, b: EventEnvelope): number {
  return time(b) - time(a) || (a.event_id < b.event_id ? 1 : a.event_id > b.event_id ? -1 : 0);
}

/**
 * The live rows after a batch arrives: new events (not already live nor in ``known``,
 * the ids of the fetched pages) on top, newest first, at most ``cap`` in all.
 * Returns the rows and how many older live rows fell off the end.
 */
export function mergeLive(
  live: readonly EventEnvelope[],
  incoming: readonly EventEnvelope[],
  known: ReadonlySet<string> = new Set(),
  cap = LIVE_CAP,
): { rows: EventEnvelope[]; trimmed: number } {
  const seen = new Set(live.map((e) => e.event_id));
  const fresh: EventEnvelope[] = [];
  for (const e of incoming) {
    if (!e || typeof e.event_id !== "string" || seen.has(e.event_id) || known.has(e.event_id)) continue;
    seen.add(e.event_id);
    fresh.push(e);
  }
  if (fresh.length === 0) return { rows: [...live], trimmed: 0 };
  fresh.sort(newestFirst);
  const all = [...fresh, ...live];
  return { rows: all.slice(0, cap), trimmed: Math.max(0, all.length - cap) };
}

/** Whether a live event belongs to the list's time range (an absolute range ends). */
export function inRange(e: EventEnvelope, from: string, to: string | null): boolean {
  const t = Date.parse(e.timestamp);
  if (Number.isNaN(t)) return false;
  return t >= Date.parse(from) && (to === null || t < Date.parse(to));
}

/** The rows to show: live ones not fetched since, then the pages, each id once. */
export function combineRows(live: readonly EventEnvelope[], pages: readonly EventEnvelope[][]): EventEnvelope[] {
  const seen = new Set<string>();
  const out: EventEnvelope[] = [];
  const fetched: EventEnvelope[] = pages.flat();
  const fetchedIds = new Set(fetched.map((e) => e.event_id));
  for (const e of live) {
    if (fetchedIds.has(e.event_id) || seen.has(e.event_id)) continue;
    seen.add(e.event_id);
    out.push(e);
  }
  for (const e of fetched) {
    if (seen.has(e.event_id)) continue;
    seen.add(e.event_id);
    out.push(e);
  }
  return out;
}
