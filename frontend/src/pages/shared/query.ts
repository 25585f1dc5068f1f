// Typed queries as the analysis pages (cost, performance, security) send them: every page
// of a result collected, within a bound, and the hub's row limit respected.
import { ApiError, runQuery } from "../../api/client";
import type { Aggregate, QueryFilter, QueryResult, QueryRow, TypedQuery } from "../../api/types";
import type { ResolvedRange } from "../../lib/time";

/** Rows asked for per page; lowered to the hub's `query_max_rows` when that is smaller. */
export const PAGE_ROWS = 1000;
/** Pages followed at most: a chart does not need more than this many rows. */
export const MAX_PAGES = 50;

export interface Rows {
  rows: QueryRow[];
  /** Where the hub answered from: "raw" events are slower than "rollup". */
  source: "raw" | "rollup";
  /** More rows existed than MAX_PAGES pages hold. */
  truncated: boolean;
}

type PageFetcher = (cursor: string | null, limit: number) => Promise<QueryResult>;

/** The hub's maximum page size when ``error`` refused a limit as too large, else null. */
export function maxRowsFrom(error: unknown): number | null {
  if (!(error instanceof ApiError) || error.status !== 400) return null;
  const match = /maximum of (\d+) rows/.exec(error.message);
  const n = match ? Number(match[1]) : NaN;
  return Number.isFinite(n) && n >= 1 ? n : null;
}

/** Follows ``next_cursor`` until the last page or ``maxPages`` pages. */
export async function collectPages(
  fetchPage: PageFetcher,
  limit = PAGE_ROWS,
  maxPages = MAX_PAGES,
): Promise<Rows> {
  let pageSize = limit;
  let first: QueryResult;
  try {
    first = await fetchPage(null, pageSize);
  } catch (error) {
    const max = maxRowsFrom(error);
    if (max === null || max >= pageSize) throw error;
    pageSize = max;
    first = await fetchPage(null, pageSize);
  }
  const rows = [...first.rows];
  let cursor = first.next_cursor;
  let pages = 1;
  while (cursor && pages < maxPages) {
    const next = await fetchPage(cursor, pageSize);
    rows.push(...next.rows);
    cursor = next.next_cursor;
    pages += 1;
  }
  return { rows, source: first.meta.source, truncated: Boolean(cursor) };
}

/** Runs ``query`` and returns all of its rows (see collectPages). */
export function fetchRows(query: Omit<TypedQuery, "limit" | "cursor">, signal?: AbortSignal): Promise<Rows> {
  return collectPages((cursor, limit) => runQuery({ ...query, limit, cursor }, signal));
}

export type GroupKey = string | { bucket: ResolvedRange["bucket"] };

/** A typed query over ``range`` (without limit and cursor: fetchRows pages it). */
export function typedQuery(
  range: Pick<ResolvedRange, "from" | "to">,
  parts: {
    filters?: QueryFilter[];
    groupBy?: GroupKey[];
    aggregates?: Aggregate[];
    orderBy?: { field: string; direction: "asc" | "desc" }[];
  },
): Omit<TypedQuery, "limit" | "cursor"> {
  return {
    time_range: { from: range.from, to: range.to },
    filters: parts.filters ?? [],
    group_by: parts.groupBy ?? [],
    aggregates: parts.aggregates ?? [],
    ...(parts.orderBy ? { order_by: parts.orderBy } : {}),
  };
}

export function eq(field: string, value: string | number | boolean): QueryFilter {
  return { field, op: "eq", value };
}

/** Model calls: what cost and performance are about. */
export const LLM_CALLS: QueryFilter = eq("payload_subtype", "llm_call");
/** The same, as an explorer filter. */
export const LLM_CALLS_LINK = "payload_subtype:eq:llm_call";

/** Where a panel's numbers come from, said in its subtitle. */
export function sourceNote(source: "raw" | "rollup" | undefined, truncated = false): string {
  const from = source === "raw" ? "from raw events (slower)" : source === "rollup" ? "from rollups" : "";
  return truncated ? `${from}; first rows only` : from;
}
