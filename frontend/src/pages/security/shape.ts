// The security & compliance page's data shaping. Pure, unit-tested (shape.test.ts).
import type { Bucket, QueryRow } from "../../api/types";
import type { TopEntry } from "../../components/TopList";
import { bucketMs } from "../../lib/time";

function keyOf(value: unknown): string | null {
  return value === null || value === undefined || value === "" ? null : String(value);
}

function timeKey(value: unknown): string {
  const t = Date.parse(String(value));
  return Number.isNaN(t) ? String(value) : String(t);
}

/** ``rows`` added up by ``dimension`` (other group columns folded in), largest first. */
export function countBy(rows: QueryRow[], dimension: string, value = "n"): TopEntry[] {
  const totals = new Map<string | null, number>();
  for (const row of rows) {
    const k = keyOf(row[dimension]);
    totals.set(k, (totals.get(k) ?? 0) + (Number(row[value]) || 0));
  }
  return [...totals.entries()]
    .map(([key, v]) => ({ key, value: v }))
    .sort((a, b) => b.value - a.value || String(a.key).localeCompare(String(b.key)));
}

/** Threat levels from the most to the least severe (EVENT-MODEL: low…critical). */
export const LEVELS = ["critical", "high", "medium", "low"] as const;

/** Entries ordered by severity (critical first), unknown levels after, by count. */
export function bySeverity(entries: TopEntry[]): TopEntry[] {
  const rank = (k: string | null) => {
    const i = (LEVELS as readonly string[]).indexOf(String(k).toLowerCase());
    return i === -1 ? LEVELS.length : i;
  };
  return [...entries].sort((a, b) => rank(a.key) - rank(b.key) || b.value - a.value);
}

export interface ThreatTotals {
  total: number;
  blocked: number;
  /** Critical and high threats. */
  severe: number;
}

/** Totals of rows grouped by (at least) mitigation status and threat level. */
export function threatTotals(rows: QueryRow[], value = "n"): ThreatTotals {
  let total = 0;
  let blocked = 0;
  let severe = 0;
  for (const row of rows) {
    const n = Number(row[value]) || 0;
    total += n;
    if (keyOf(row["payload.mitigation_status"]) === "blocked") blocked += n;
    const level = String(row["payload.threat_level"] ?? "").toLowerCase();
    if (level === "critical" || level === "high") severe += n;
  }
  return { total, blocked, severe };
}

export interface BlockedPoint {
  bucket: string;
  blocked: number;
  not_blocked: number;
}

/**
 * Threats per bucket split into blocked and the rest (detected, mitigated, investigating,
 * resolved, or no status), for every bucket start.
 */
export function blockedSplit(rows: QueryRow[], starts: string[], value = "n"): BlockedPoint[] {
  const by = new Map<string, BlockedPoint>();
  for (const row of rows) {
    const key = timeKey(row.bucket);
    const point = by.get(key) ?? { bucket: String(row.bucket), blocked: 0, not_blocked: 0 };
    const n = Number(row[value]) || 0;
    if (keyOf(row["payload.mitigation_status"]) === "blocked") point.blocked += n;
    else point.not_blocked += n;
    by.set(key, point);
  }
  return starts.map((bucket) => {
    const found = by.get(timeKey(bucket));
    return { bucket, blocked: found?.blocked ?? 0, not_blocked: found?.not_blocked ?? 0 };
  });
}

const BUCKETS: Bucket[] = ["1m", "5m", "15m", "1h", "1d"];

/**
 * The bucket of a heat map over ``spanMs``: the finest one, not finer than the page's
 * ``bucket``, that keeps the map within ``maxColumns`` columns.
 */
export function heatBucket(spanMs: number, bucket: Bucket, maxColumns = 200): Bucket {
  const from = BUCKETS.indexOf(bucket);
  for (const b of BUCKETS.slice(from)) {
    if (spanMs / bucketMs(b) <= maxColumns) return b;
  }
  return "1d";
}

/**
 * Rows for a heat map with every (bucket start, group) cell present, empty ones as 0, so
 * that quiet periods show as columns rather than disappearing. Groups keep their order
 * of first appearance; a missing group value becomes "(none)".
 */
export function heatRows(rows: QueryRow[], starts: string[], dimension: string, value = "n"): QueryRow[] {
  const groups: string[] = [];
  const cells = new Map<string, number>();
  for (const row of rows) {
    const g = keyOf(row[dimension]) ?? "(none)";
    if (!groups.includes(g)) groups.push(g);
    const cell = `${timeKey(row.bucket)}|${g}`;
    cells.set(cell, (cells.get(cell) ?? 0) + (Number(row[value]) || 0));
  }
  const out: QueryRow[] = [];
  for (const g of groups) {
    for (const bucket of starts) {
      out.push({ bucket, [dimension]: g, [value]: cells.get(`${timeKey(bucket)}|${g}`) ?? 0 });
    }
  }
  return out;
}

// Booleans of the payload come back as JSON values or, as group keys, as text.
function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

function isFalse(value: unknown): boolean {
  return value === false || value === "false";
}

export interface PolicyRow {
  policyId: string | null;
  policyName: string | null;
  violations: number;
  autoRemediated: number;
}

/** Violations per policy (rows grouped by id, name and auto_remediated), most first. */
export function policyTable(rows: QueryRow[], value = "n"): PolicyRow[] {
  const by = new Map<string, PolicyRow>();
  for (const row of rows) {
    const policyId = keyOf(row["payload.policy_id"]);
    const policyName = keyOf(row["payload.policy_name"]);
    const key = `${policyId}|${policyName}`;
    const entry = by.get(key) ?? { policyId, policyName, violations: 0, autoRemediated: 0 };
    const n = Number(row[value]) || 0;
    entry.violations += n;
    if (isTrue(row["payload.auto_remediated"])) entry.autoRemediated += n;
    by.set(key, entry);
  }
  return [...by.values()].sort(
    (a, b) => b.violations - a.violations || String(a.policyName).localeCompare(String(b.policyName)),
  );
}

export interface FrameworkRow {
  framework: string | null;
  checks: number;
  passed: number;
  /** Checks that did not pass; checks without a ``passed`` value count in neither. */
  failed: number;
  /** Average score (0–1) over the checks that have one; null if none has. */
  score: number | null;
}

/** Compliance checks per framework (rows grouped by framework and passed, with avg score). */
export function complianceTable(rows: QueryRow[], value = "n", scoreColumn = "score"): FrameworkRow[] {
  const by = new Map<string | null, FrameworkRow & { scoreSum: number; scored: number }>();
  for (const row of rows) {
    const framework = keyOf(row["payload.framework"]);
    const entry = by.get(framework) ?? { framework, checks: 0, passed: 0, failed: 0, score: null, scoreSum: 0, scored: 0 };
    const n = Number(row[value]) || 0;
    entry.checks += n;
    if (isTrue(row["payload.passed"])) entry.passed += n;
    else if (isFalse(row["payload.passed"])) entry.failed += n;
    const s = row[scoreColumn];
    if (s !== null && s !== undefined && Number.isFinite(Number(s))) {
      entry.scoreSum += Number(s) * n;
      entry.scored += n;
    }
    by.set(framework, entry);
  }
  return [...by.values()]
    .map(({ scoreSum, scored, ...rest }) => ({ ...rest, score: scored > 0 ? scoreSum / scored : null }))
    .sort((a, b) => b.failed - a.failed || b.checks - a.checks || String(a.framework).localeCompare(String(b.framework)));
}
