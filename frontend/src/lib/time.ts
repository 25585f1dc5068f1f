// Time ranges as the UI keeps them in the URL: relative ("24h": the last 24 hours, moving
// with the clock) or absolute (two instants). Pure functions, unit-tested.
import type { Bucket } from "../api/types";

export type RangeSpec = { kind: "relative"; last: string } | { kind: "absolute"; from: string; to: string };

export interface ResolvedRange {
  from: string;
  to: string;
  bucket: Bucket;
}

export const RELATIVE_CHOICES = ["15m", "1h", "6h", "24h", "7d", "30d"] as const;
export const DEFAULT_RANGE: RangeSpec = { kind: "relative", last: "24h" };

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const BUCKET_MS: Record<Bucket, number> = {
  "1m": 60_000,
  "5m": 300_000,
  "15m": 900_000,
  "1h": 3_600_000,
  "1d": 86_400_000,
};

/** Milliseconds of a duration such as "15m", "24h" or "7d"; null if it is not one. */
export function durationMs(text: string): number | null {
  const match = /^(\d{1,4})([mhd])$/.exec(text.trim());
  if (!match) return null;
  const n = Number(match[1]);
  const unit = UNIT_MS[match[2] as string];
  return n > 0 && unit !== undefined ? n * unit : null;
}

export function bucketMs(bucket: Bucket): number {
  return BUCKET_MS[bucket];
}

/** The bucket that draws a range in about 60–200 points: enough to see shape, few enough
 *  that four charts draw quickly (the overview's first paint budget is 1.5 s). */
export function bucketFor(spanMs: number): Bucket {
  if (spanMs <= 2 * 3_600_000) return "1m";
  if (spanMs <= 12 * 3_600_000) return "5m";
  if (spanMs <= 2 * 86_400_000) return "15m";
  if (spanMs <= 8 * 86_400_000) return "1h";
  return "1d";
}

/** RFC 3339 in UTC with a Z and no milliseconds, as the API prefers. */
export function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** The instants of a range at ``nowMs``; a relative range ends at the next whole minute. */
export function resolveRange(spec: RangeSpec, nowMs: number): ResolvedRange {
  if (spec.kind === "absolute") {
    const from = Date.parse(spec.from);
    const to = Date.parse(spec.to);
    return { from: iso(from), to: iso(to), bucket: bucketFor(to - from) };
  }
  const span = durationMs(spec.last) ?? UNIT_MS.h! * 24;
  // Ending on a minute boundary keeps every query of one refresh on the same window.
  const to = Math.ceil(nowMs / 60_000) * 60_000;
  return { from: iso(to - span), to: iso(to), bucket: bucketFor(span) };
}

/** The range from URL parameters (``range`` or ``from`` + ``to``); the default if invalid. */
export function parseRange(params: URLSearchParams): RangeSpec {
  const from = params.get("from");
  const to = params.get("to");
  if (from && to && !Number.isNaN(Date.parse(from)) && Date.parse(from) < Date.parse(to)) {
    return { kind: "absolute", from, to };
  }
  const last = params.get("range");
  if (last && durationMs(last) !== null) return { kind: "relative", last };
  return DEFAULT_RANGE;
}

/** Writes ``spec`` into ``params`` (a copy), dropping the other kind's parameters. */
export function withRange(params: URLSearchParams, spec: RangeSpec): URLSearchParams {
  const next = new URLSearchParams(params);
  next.delete("range");
  next.delete("from");
  next.delete("to");
  if (spec.kind === "relative") next.set("range", spec.last);
  else {
    next.set("from", spec.from);
    next.set("to", spec.to);
  }
  return next;
}

/** The range just before ``range``, of the same length (for "vs previous period"). */
export function previousRange(range: ResolvedRange): ResolvedRange {
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  return { from: iso(from - (to - from)), to: range.from, bucket: range.bucket };
}

export function describeRange(spec: RangeSpec): string {
  if (spec.kind === "relative") return `Last ${spec.last}`;
  const fmt = (s: string) => new Date(s).toLocaleString();
  return `${fmt(spec.from)} – ${fmt(spec.to)}`;
}
