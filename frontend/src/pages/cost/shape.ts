// The cost page's data shaping. Pure, unit-tested (shape.test.ts).
import type { QueryRow } from "../../api/types";
import { formatChange, formatCost } from "../../lib/format";
import type { Mover } from "../../lib/shape";

export type SpendBy = "model_id" | "provider" | "asset_id" | "tag";

export const SPEND_BY: { value: SpendBy; label: string }[] = [
  { value: "model_id", label: "Model" },
  { value: "provider", label: "Provider" },
  { value: "asset_id", label: "Application" },
  { value: "tag", label: "Tag" },
];

export const DEFAULT_TAG = "team";

/** A tag key as the query API accepts it (`tags.<key>`). */
export function isTagKey(text: string): boolean {
  return /^[A-Za-z0-9_.:/-]{1,128}$/.test(text);
}

/** The "by" of the URL; the model when missing or unknown. */
export function parseSpendBy(value: string | null): SpendBy {
  return SPEND_BY.some((o) => o.value === value) ? (value as SpendBy) : "model_id";
}

/** The tag key of the URL; ``team`` when missing or not a valid key. */
export function parseTagKey(value: string | null): string {
  return value && isTagKey(value) ? value : DEFAULT_TAG;
}

/** The query field of a "by": `tags.<key>` for a tag. */
export function spendField(by: SpendBy, tagKey: string): string {
  return by === "tag" ? `tags.${tagKey}` : by;
}

/** What the field is called in titles. */
export function spendLabel(by: SpendBy, tagKey: string): string {
  if (by === "tag") return `tag "${tagKey}"`;
  return (SPEND_BY.find((o) => o.value === by)?.label ?? by).toLowerCase();
}

function timeKey(value: unknown): string {
  const t = Date.parse(String(value));
  return Number.isNaN(t) ? String(value) : String(t);
}

export interface CostPoint {
  bucket: string;
  cost: number;
  requests: number;
  unpriced: number;
  /** Spend per 1,000 priced calls; null where the bucket has no priced call. */
  per1k: number | null;
}

/**
 * Cost per 1,000 calls for every bucket start: the bucket's spend over its priced calls
 * (calls minus unpriced ones, whose cost is unknown rather than zero) times 1,000.
 * ``totals`` rows carry ``bucket``, ``cost`` and ``requests``; ``unpriced`` rows carry
 * ``bucket`` and ``unpriced``.
 */
export function costPer1k(totals: QueryRow[], unpriced: QueryRow[], starts: string[]): CostPoint[] {
  const byBucket = new Map<string, { cost: number; requests: number }>();
  for (const row of totals) {
    byBucket.set(timeKey(row.bucket), {
      cost: Number(row.cost) || 0,
      requests: Number(row.requests) || 0,
    });
  }
  const unpricedBy = new Map<string, number>();
  for (const row of unpriced) unpricedBy.set(timeKey(row.bucket), Number(row.unpriced) || 0);
  return starts.map((bucket) => {
    const key = timeKey(bucket);
    const t = byBucket.get(key) ?? { cost: 0, requests: 0 };
    const u = unpricedBy.get(key) ?? 0;
    const priced = t.requests - u;
    return {
      bucket,
      cost: t.cost,
      requests: t.requests,
      unpriced: u,
      per1k: priced > 0 ? (t.cost / priced) * 1000 : null,
    };
  });
}

export function sumColumn(rows: QueryRow[], column: string): number {
  return rows.reduce((sum, row) => sum + (Number(row[column]) || 0), 0);
}

/** Spend per 1,000 priced calls over a whole range; null without priced calls. */
export function per1kTotal(cost: number, requests: number, unpriced: number): number | null {
  const priced = requests - unpriced;
  return priced > 0 ? (cost / priced) * 1000 : null;
}

export type Direction = "up" | "down" | "flat";

export interface MoverRow extends Mover {
  delta: number;
  direction: Direction;
  /** The change said in words, so that colour is never the only sign: "+25 %", "new". */
  changeText: string;
  /** The difference in dollars with its sign: "+$1.20", "−$0.40". */
  deltaText: string;
}

export function signedCost(delta: number): string {
  if (delta === 0) return formatCost(0);
  return `${delta > 0 ? "+" : "−"}${formatCost(Math.abs(delta))}`;
}

/**
 * The relative change in words: "+25 %", "-40 %"; "×12" beyond +1,000 % (a percentage of
 * five digits says less than a factor); "new" when the previous period had none.
 */
export function changeText(m: Pick<Mover, "current" | "change">): string {
  if (m.change === null) return m.current > 0 ? "new" : "–";
  if (m.change >= 10) return `×${Math.round(1 + m.change).toLocaleString("en")}`;
  return formatChange(m.change);
}

/** Movers as table rows; keys without spend in either period are left out. */
export function moverRows(movers: Mover[]): MoverRow[] {
  return movers.filter((m) => m.current !== 0 || m.previous !== 0).map((m) => {
    const delta = m.current - m.previous;
    const direction: Direction = delta > 0 ? "up" : delta < 0 ? "down" : "flat";
    return {
      ...m,
      delta,
      direction,
      changeText: changeText(m),
      deltaText: signedCost(delta),
    };
  });
}

/** How a total moved against the previous period, in words ("+12 % vs previous period"). */
export function periodChange(current: number, previous: number): string {
  if (previous === 0) return current > 0 ? "no spend in the previous period" : "no spend in either period";
  return `${changeText({ current, change: (current - previous) / previous })} vs previous period`;
}

/** Rows with a cost: groups without spend (unpriced or free calls) are no series of a spend chart. */
export function withSpend(rows: QueryRow[], column = "cost"): QueryRow[] {
  return rows.filter((row) => (Number(row[column]) || 0) !== 0);
}
