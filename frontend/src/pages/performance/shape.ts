// The performance page's data shaping. Pure, unit-tested (shape.test.ts).
import type { QueryRow } from "../../api/types";
import type { Series } from "../../lib/shape";
import type { TopEntry } from "../../components/TopList";

function timeKey(value: unknown): string {
  const t = Date.parse(String(value));
  return Number.isNaN(t) ? String(value) : String(t);
}

function keyOf(value: unknown): string | null {
  return value === null || value === undefined || value === "" ? null : String(value);
}

function num(value: unknown): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

export interface WideOptions {
  /** The group column (e.g. ``model_id``). */
  dimension: string;
  /** The measured column (e.g. ``p95``): copied as is, never added up. */
  value: string;
  /** The column that ranks the groups (e.g. ``requests``). */
  weight: string;
  top: number;
  /** Every bucket start to draw; buckets without a value get null (a gap, not 0). */
  starts: string[];
}

export interface WideSeries extends Series {
  /** The group's value (null for "(none)"), to link to its events. */
  group: string | null;
}

/**
 * Rows of ``(bucket, dimension, value, weight)`` as one row per bucket start with one
 * column per group, for measures that cannot be summed (percentiles, averages). Only the
 * ``top`` groups by total weight that have at least one value are kept; there is no
 * "(other)". Columns are named ``s0``, ``s1``… (group values may contain dots, which
 * charts would read as paths); ``series`` maps them to the group names.
 */
export function widen(rows: QueryRow[], opts: WideOptions): { data: Record<string, unknown>[]; series: WideSeries[] } {
  const weights = new Map<string | null, number>();
  const hasValue = new Set<string | null>();
  for (const row of rows) {
    const k = keyOf(row[opts.dimension]);
    weights.set(k, (weights.get(k) ?? 0) + (Number(row[opts.weight]) || 0));
    if (num(row[opts.value]) !== null) hasValue.add(k);
  }
  const kept = [...weights.entries()]
    .filter(([k]) => hasValue.has(k))
    .sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])))
    .slice(0, opts.top)
    .map(([k]) => k);
  const column = new Map(kept.map((k, i) => [k, `s${i}`]));
  const cells = new Map<string, number | null>();
  for (const row of rows) {
    const col = column.get(keyOf(row[opts.dimension]));
    if (col) cells.set(`${timeKey(row.bucket)}|${col}`, num(row[opts.value]));
  }
  const data = opts.starts.map((bucket) => {
    const out: Record<string, unknown> = { bucket };
    const t = timeKey(bucket);
    for (const col of column.values()) out[col] = cells.get(`${t}|${col}`) ?? null;
    return out;
  });
  const series = kept.map((k, i) => ({ key: `s${i}`, label: k ?? "(none)", group: k }));
  return { data, series };
}

export interface ModelOption {
  value: string;
  label: string;
}

/** The groups of ``rows`` by descending ``weight``, for a selector (null groups left out). */
export function groupOptions(rows: QueryRow[], dimension: string, weight: string): ModelOption[] {
  const totals = new Map<string, number>();
  for (const row of rows) {
    const k = keyOf(row[dimension]);
    if (k !== null) totals.set(k, (totals.get(k) ?? 0) + (Number(row[weight]) || 0));
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k]) => ({ value: k, label: k }));
}

/** Ranked-list entries from ``rows`` (rows without a value left out), largest first. */
export function topEntries(rows: QueryRow[], dimension: string, value: string, top = 10): TopEntry[] {
  return rows
    .map((row) => ({ key: keyOf(row[dimension]), value: num(row[value]) }))
    .filter((e): e is TopEntry => e.value !== null)
    .sort((a, b) => b.value - a.value)
    .slice(0, top);
}

/** The share of ``part`` in ``whole``; null when there is no whole. */
export function share(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}
