// /api/v1/dashboards (src/analytics_hub/api/rest/dashboards.py): reading needs a read key;
// creating, saving and deleting need an admin key. PUT carries the version read (409 if
// someone saved since).
import { api, ApiError, runQuery } from "../../api/client";
import type { QueryRow, TypedQuery } from "../../api/types";
import { documentOf, type Dashboard, type DashboardDocument, type DashboardList } from "./model";

const BASE = "/api/v1/dashboards";

export function listDashboards(signal?: AbortSignal): Promise<DashboardList> {
  return api<DashboardList>(BASE, { signal });
}

export function getDashboard(id: string, signal?: AbortSignal): Promise<Dashboard> {
  return api<Dashboard>(`${BASE}/${encodeURIComponent(id)}`, { signal });
}

export function createDashboard(doc: DashboardDocument): Promise<Dashboard> {
  return api<Dashboard>(BASE, { method: "POST", body: JSON.stringify(documentOf(doc)) });
}

export function saveDashboard(id: string, doc: DashboardDocument, version: number): Promise<Dashboard> {
  return api<Dashboard>(`${BASE}/${encodeURIComponent(id)}`, {
    method: "PUT",
    body: JSON.stringify({ ...documentOf(doc), version }),
  });
}

export function deleteDashboard(id: string): Promise<void> {
  return api<void>(`${BASE}/${encodeURIComponent(id)}`, { method: "DELETE" });
}

/** What went wrong, as a sentence that says what to do. */
export function describeError(error: unknown, doing = "do this"): string {
  if (error instanceof ApiError) {
    if (error.status === 403) {
      return `Your API key may read dashboards but not ${doing}: that needs an admin key. Sign in with one, or ask an admin.`;
    }
    if (error.status === 0) return error.message;
    return `${error.message} (${error.status} ${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}

export interface PanelRows {
  rows: QueryRow[];
  /** More rows exist than were read (a table's next page, or a series over the cap). */
  more: boolean;
  approximate: boolean;
}

const MAX_SERIES_ROWS = 20_000;
const MAX_PAGES = 40;

/** A panel's rows: the first page for tables and numbers; for charts over time every page
 * (a bucketed query easily has more rows than a page), up to 20,000 rows. */
export async function fetchPanelRows(query: TypedQuery, allPages: boolean, signal?: AbortSignal): Promise<PanelRows> {
  let page = await runQuery(query, signal);
  const rows = [...page.rows];
  let approximate = page.meta.approximate_percentiles;
  let pages = 1;
  while (allPages && page.next_cursor && rows.length < MAX_SERIES_ROWS && pages < MAX_PAGES) {
    page = await runQuery({ ...query, cursor: page.next_cursor }, signal);
    rows.push(...page.rows);
    approximate ||= page.meta.approximate_percentiles;
    pages += 1;
  }
  return { rows, more: page.next_cursor !== null, approximate };
}

/** The text of a chosen file. */
export function readFileText(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result ?? ""));
    reader.onerror = () => reject(new Error("The file could not be read."));
    reader.readAsText(file);
  });
}

/** Saves ``data`` as a JSON file named ``name`` (the browser's download). */
export function downloadJson(name: string, data: unknown): void {
  const blob = new Blob([JSON.stringify(data, null, 2) + "\n"], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}
