// Turning query rows into what charts draw. Pure, unit-tested.
import type { QueryRow } from "../api/types";

export interface Series {
  key: string;
  label: string;
}

export interface Wide {
  data: Record<string, number | string | null>[];
  series: Series[];
}

const OTHER = "(other)";
const NONE = "(none)";

function label(value: unknown): string {
  return value === null || value === undefined || value === "" ? NONE : String(value);
}

/**
 * Rows of ``(bucket, dimension, value)`` made wide: one row per bucket with one column per
 * dimension value. The ``top`` values by total keep their own series; the rest add up in
 * "(other)". Buckets come out in time order, missing cells as 0 (a sum over no events).
 */
export function pivot(
  rows: QueryRow[],
  dimension: string,
  value: string,
  top = 8,
  bucketKey = "bucket",
): Wide {
  const totals = new Map<string, number>();
  for (const row of rows) {
    const k = label(row[dimension]);
    totals.set(k, (totals.get(k) ?? 0) + (Number(row[value]) || 0));
  }
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const kept = new Set(ranked.slice(0, top));
  const hasOther = ranked.length > top;
  const byBucket = new Map<string, Record<string, number | string | null>>();
  for (const row of rows) {
    const bucket = String(row[bucketKey]);
    let wide = byBucket.get(bucket);
    if (!wide) {
      wide = { [bucketKey]: bucket };
      for (const k of kept) wide[k] = 0;
      if (hasOther) wide[OTHER] = 0;
      byBucket.set(bucket, wide);
    }
    const k = label(row[dimension]);
    const column = kept.has(k) ? k : OTHER;
    wide[column] = (Number(wide[column]) || 0) + (Number(row[value]) || 0);
  }
  const data = [...byBucket.values()].sort((a, b) =>
    String(a[bucketKey]).localeCompare(String(b[bucketKey])),
  );
  const series = ranked.slice(0, top).map((k) => ({ key: k, label: k }));
  if (hasOther) series.push({ key: OTHER, label: OTHER });
  return { data, series };
}

/** Every bucket start in ``[from, to)``; charts need the empty ones drawn as gaps or 0. */
export function bucketStarts(fromIso: string, toIso: string, stepMs: number): string[] {
  const out: string[] = [];
  const start = Math.floor(Date.parse(fromIso) / stepMs) * stepMs;
  const end = Date.parse(toIso);
  for (let t = start; t < end && out.length < 20_000; t += stepMs) {
    out.push(new Date(t).toISOString().replace(".000Z", "Z"));
  }
  return out;
}

/** ``data`` with a row for every bucket start, missing ones filled with ``fill``. */
export function fillBuckets<T extends Record<string, unknown>>(
  data: T[],
  starts: string[],
  keys: string[],
  fill: number | null,
  bucketKey = "bucket",
): Record<string, unknown>[] {
  const have = new Map(data.map((row) => [normalise(String(row[bucketKey])), row]));
  return starts.map((start) => {
    const found = have.get(normalise(start));
    if (found) return found;
    const empty: Record<string, unknown> = { [bucketKey]: start };
    for (const k of keys) empty[k] = fill;
    return empty;
  });
}

function normalise(isoTime: string): string {
  const t = Date.parse(isoTime);
  return Number.isNaN(t) ? isoTime : String(t);
}

export interface Mover {
  key: string;
  current: number;
  previous: number;
  change: number | null; // relative change; null when the previous period had none
}

/** The keys whose value moved most between two periods, by absolute difference. */
export function topMovers(
  current: QueryRow[],
  previous: QueryRow[],
  dimension: string,
  value: string,
  top = 10,
): Mover[] {
  const before = new Map(previous.map((r) => [label(r[dimension]), Number(r[value]) || 0]));
  const now = new Map(current.map((r) => [label(r[dimension]), Number(r[value]) || 0]));
  const keys = new Set([...before.keys(), ...now.keys()]);
  const movers: Mover[] = [...keys].map((key) => {
    const c = now.get(key) ?? 0;
    const p = before.get(key) ?? 0;
    return { key, current: c, previous: p, change: p === 0 ? null : (c - p) / p };
  });
  movers.sort((a, b) => Math.abs(b.current - b.previous) - Math.abs(a.current - a.previous));
  return movers.slice(0, top);
}
