// Test helpers of the analysis pages: a fake hub answering typed queries, the page under a
// router whose location the test can read, and axe over what was drawn. Tests only.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import axe from "axe-core";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { vi } from "vitest";
import type { QueryRow, TypedQuery } from "../../api/types";

export type Answer = QueryRow[] | { status: number; code: string; message: string };

/** Stubs fetch: every POST /api/v1/query goes to ``answer``; returns the queries seen. */
export function fakeHub(answer: (query: TypedQuery) => Answer): TypedQuery[] {
  const seen: TypedQuery[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string, init?: RequestInit) => {
      const url = new URL(input, "http://hub.test");
      if (url.pathname !== "/api/v1/query") {
        return json({ error: { code: "not_found", message: `no ${url.pathname} here` } }, 404);
      }
      const query = JSON.parse(String(init?.body)) as TypedQuery;
      seen.push(query);
      const out = answer(query);
      if (!Array.isArray(out)) return json({ error: { code: out.code, message: out.message } }, out.status);
      const source = (query.group_by ?? []).some((g) => typeof g === "string" && /^(tags|payload)\.|error_type/.test(g))
        ? "raw"
        : "rollup";
      return json({ rows: out, next_cursor: null, meta: { source, plan: [], elapsed_ms: 1, approximate_percentiles: false } });
    }),
  );
  return seen;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** The group-by fields of a query, buckets as "bucket". */
export function groups(query: TypedQuery): string[] {
  return (query.group_by ?? []).map((g) => (typeof g === "string" ? g : "bucket"));
}

export function hasFilter(query: TypedQuery, field: string, value?: unknown): boolean {
  return (query.filters ?? []).some((f) => f.field === field && (value === undefined || f.value === value));
}

export const where = { search: "", path: "" };
function Where() {
  const l = useLocation();
  where.search = l.search;
  where.path = l.pathname;
  return null;
}

/** Renders ``page`` at ``path`` + ``search``, with the explorer route as a target. */
export function showPage(path: string, search: string, page: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[`${path}${search}`]}>
        <main id="main" tabIndex={-1}>
          <Routes>
            <Route path={path} element={page} />
            <Route path="/explorer" element={<p>explorer</p>} />
          </Routes>
        </main>
        <Where />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

/** The explorer filters (``f``) of the current location. */
export function explorerFilters(): string[] {
  return new URLSearchParams(where.search).getAll("f");
}

/** axe's violations over ``container`` (colour contrast needs a real browser: skipped). */
export async function axeViolations(container: Element): Promise<string[]> {
  // jsdom has no canvas (axe measures icon fonts with one): let axe skip that check.
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
  const result = await axe.run(container, { rules: { "color-contrast": { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(" | ")}`);
}
