import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import axe from "axe-core";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import DashboardView from "../DashboardView";
import Dashboards from "../Dashboards";
import { readFileText } from "./api";
import type { Dashboard, DashboardDocument } from "./model";

// A fake hub: dashboards in memory (versions, 409 on a stale PUT) and a query endpoint
// that answers any query with a few rows, or 400 for a field named "bogus".
interface Hub {
  dashboards: Map<string, Dashboard>;
  requests: { method: string; path: string; body: unknown }[];
  conflictNext: boolean;
}
let hub: Hub;

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function stored(id: string, doc: DashboardDocument, version = 1): Dashboard {
  return {
    ...doc,
    time_range: { relative: null, from: null, to: null, ...doc.time_range },
    id,
    version,
    created_at: "2025-01-01T00:00:00Z",
    updated_at: "2025-01-02T00:00:00Z",
  };
}

function rowsFor(query: { group_by?: unknown[]; aggregates?: { fn: string; field?: string; as?: string }[] }) {
  const alias = (a: { fn: string; field?: string; as?: string }) => a.as ?? (a.field ? `${a.fn}_${a.field}` : a.fn);
  const hasBucket = (query.group_by ?? []).some((g) => typeof g === "object");
  const dims = (query.group_by ?? []).filter((g): g is string => typeof g === "string");
  const rows = [];
  for (const model of ["gpt-4o", "claude"]) {
    for (const bucket of hasBucket ? ["2025-01-31T00:00:00Z", "2025-01-31T01:00:00Z"] : [null]) {
      const row: Record<string, unknown> = {};
      if (bucket) row.bucket = bucket;
      for (const d of dims) row[d] = model;
      for (const a of query.aggregates ?? []) row[alias(a)] = 10;
      rows.push(row);
    }
    if (dims.length === 0 && !hasBucket) break;
  }
  return rows;
}

beforeEach(() => {
  hub = { dashboards: new Map(), requests: [], conflictNext: false };
  let nextId = 1;
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string, init: RequestInit = {}) => {
      const url = new URL(input, "http://hub.test");
      const method = init.method ?? "GET";
      const body = init.body ? JSON.parse(String(init.body)) : undefined;
      hub.requests.push({ method, path: url.pathname, body });
      if (url.pathname === "/api/v1/query") {
        const text = JSON.stringify(body);
        if (text.includes("bogus")) {
          return json({ error: { code: "invalid_request", message: "unknown field 'bogus' in aggregates.0.field" } }, 400);
        }
        return json({ rows: rowsFor(body), next_cursor: null, meta: { source: "rollup", plan: [], elapsed_ms: 1, approximate_percentiles: false } });
      }
      if (url.pathname === "/api/v1/dashboards") {
        if (method === "POST") {
          const id = `d${nextId++}`;
          const created = stored(id, body as DashboardDocument);
          hub.dashboards.set(id, created);
          return json(created, 201);
        }
        const items = [...hub.dashboards.values()].map((d) => ({ id: d.id, name: d.name, updated_at: d.updated_at }));
        return json({ items });
      }
      const one = /^\/api\/v1\/dashboards\/(.+)$/.exec(url.pathname);
      if (one) {
        const id = decodeURIComponent(one[1] as string);
        const current = hub.dashboards.get(id);
        if (!current) return json({ error: { code: "not_found", message: `no dashboard '${id}' for this tenant` } }, 404);
        if (method === "GET") return json(current);
        if (method === "DELETE") {
          hub.dashboards.delete(id);
          return new Response(null, { status: 204 });
        }
        if (method === "PUT") {
          const { version, ...doc } = body as DashboardDocument & { version: number };
          if (hub.conflictNext || version !== current.version) {
            hub.conflictNext = false;
            return json({ error: { code: "conflict", message: `dashboard '${id}' is at version ${current.version + 1}, not ${version}` } }, 409);
          }
          const saved = stored(id, doc, current.version + 1);
          hub.dashboards.set(id, saved);
          return json(saved);
        }
      }
      return json({ error: { code: "not_found", message: "no route" } }, 404);
    }),
  );
  // jsdom has no canvas (axe measures icon fonts with one) and no clipboard.
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

let where = { pathname: "", search: "" };
function Where() {
  const l = useLocation();
  where = { pathname: l.pathname, search: l.search };
  return null;
}

function show(path: string) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[path]}>
        <main id="main" tabIndex={-1}>
          <Routes>
            <Route path="/dashboards" element={<Dashboards />} />
            <Route path="/dashboards/:id" element={<DashboardView />} />
            <Route path="/explorer" element={<p>explorer</p>} />
          </Routes>
        </main>
        <Where />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

function seed(doc: Partial<DashboardDocument> = {}): Dashboard {
  const d = stored("abc", {
    name: "Ops",
    time_range: { relative: "7d" },
    refresh_seconds: null,
    panels: [
      {
        id: "p1",
        title: "Requests",
        kind: "line",
        query: { aggregates: [{ fn: "count", as: "requests" }], limit: 1000 },
        layout: { x: 0, y: 0, w: 6, h: 8 },
      },
      {
        id: "p2",
        title: "Cost by model",
        kind: "table",
        query: { group_by: ["model_id"], aggregates: [{ fn: "sum", field: "cost_usd", as: "cost" }] },
        layout: { x: 6, y: 0, w: 6, h: 8 },
      },
    ],
    ...doc,
  });
  hub.dashboards.set(d.id, d);
  return d;
}

async function noAxeViolations(container: HTMLElement) {
  const result = await axe.run(container, { rules: { "color-contrast": { enabled: false } } });
  expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(" | ")}`)).toEqual([]);
}

describe("Dashboards (the list)", () => {
  it("says what to do when there are none, and creates one with example panels", async () => {
    const { container } = show("/dashboards");
    await screen.findByText(/No dashboards yet/);
    await noAxeViolations(container);
    fireEvent.click(screen.getByTestId("new-dashboard"));
    await waitFor(() => expect(where.pathname).toBe("/dashboards/d1"));
    const post = hub.requests.find((r) => r.method === "POST" && r.path === "/api/v1/dashboards");
    const doc = post?.body as DashboardDocument;
    expect(doc.name).toBe("New dashboard");
    expect(doc.panels.map((p) => p.title)).toEqual(["Requests per hour", "p95 latency by model", "Cost by model"]);
    expect(doc).not.toHaveProperty("id");
    // It opens in edit mode, over the dashboard's own range.
    await waitFor(() => expect(screen.getAllByTestId("dashboard-panel")).toHaveLength(3));
    expect(screen.getByTestId("add-panel")).toBeTruthy();
    expect(new URLSearchParams(where.search).get("range")).toBe("24h");
  });

  it("lists, exports and deletes after a confirmation", async () => {
    seed();
    const created: Blob[] = [];
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: (b: Blob) => (created.push(b), "blob:x"), revokeObjectURL: () => {} }));
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});
    const { container } = show("/dashboards");
    const item = await screen.findByTestId("dashboard-list-item");
    expect(within(item).getByRole("link", { name: "Ops" }).getAttribute("href")).toBe("/dashboards/abc");
    await noAxeViolations(container);

    fireEvent.click(within(item).getByRole("button", { name: "Export Ops as JSON" }));
    await waitFor(() => expect(click).toHaveBeenCalled());
    const exported = JSON.parse(await readFileText(created[0] as Blob));
    expect(exported.name).toBe("Ops");
    expect(exported.panels).toHaveLength(2);

    const del = within(item).getByRole("button", { name: "Delete Ops" });
    del.focus();
    fireEvent.click(del);
    const dialog = await screen.findByRole("dialog", { name: "Delete this dashboard?" });
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(document.activeElement?.textContent).toBe("Cancel");
    await noAxeViolations(container);
    fireEvent.keyDown(dialog, { key: "Escape" });
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(del);
    expect(hub.dashboards.has("abc")).toBe(true);

    fireEvent.click(del);
    fireEvent.click(await screen.findByTestId("confirm-delete-button"));
    await screen.findByText(/No dashboards yet/);
    expect(hub.dashboards.has("abc")).toBe(false);
  });

  it("imports a JSON file, and says why one is refused", async () => {
    const { container } = show("/dashboards");
    await screen.findByText(/No dashboards yet/);
    const input = screen.getByLabelText("Import JSON file") as HTMLInputElement;
    const bad = new File(["{\"panels\": []}"], "bad.json", { type: "application/json" });
    fireEvent.change(input, { target: { files: [bad] } });
    expect((await screen.findByRole("alert")).textContent).toMatch(/has no "name"/);
    await noAxeViolations(container);

    const exported = { ...seed(), id: "old", version: 7 };
    hub.dashboards.clear();
    const good = new File([JSON.stringify(exported)], "ops.json", { type: "application/json" });
    fireEvent.change(input, { target: { files: [good] } });
    await waitFor(() => expect(where.pathname).toBe("/dashboards/d1"));
    const post = hub.requests.find((r) => r.method === "POST")?.body as Record<string, unknown>;
    expect(post.name).toBe("Ops");
    expect(post).not.toHaveProperty("version");
    expect(post.time_range).toEqual({ relative: "7d" });
  });
});

describe("DashboardView", () => {
  it("shows the panels over the dashboard's range, and the URL's range when it has one", async () => {
    seed();
    const { container } = show("/dashboards/abc");
    await waitFor(() => expect(screen.getAllByTestId("dashboard-panel")).toHaveLength(2));
    expect(new URLSearchParams(where.search).get("range")).toBe("7d");
    await screen.findByRole("table");
    expect(screen.getAllByRole("columnheader").map((c) => c.textContent)).toEqual(["model_id", "cost"]);
    const queries = hub.requests.filter((r) => r.path === "/api/v1/query").map((r) => r.body as Record<string, unknown>);
    const line = queries.find((q) => JSON.stringify(q).includes("requests")) as { group_by: unknown[]; time_range: { from: string; to: string } };
    expect(line.group_by).toEqual([{ bucket: "1h" }]);
    expect(Date.parse(line.time_range.to) - Date.parse(line.time_range.from)).toBe(7 * 86_400_000);
    expect(screen.queryByTestId("add-panel")).toBeNull();
    await noAxeViolations(container);
    cleanup();

    show("/dashboards/abc?range=1h");
    await waitFor(() => expect(screen.getAllByTestId("dashboard-panel")).toHaveLength(2));
    expect(new URLSearchParams(where.search).get("range")).toBe("1h");
  });

  it("says so when the dashboard does not exist", async () => {
    show("/dashboards/nope");
    await screen.findByText(/There is no dashboard with this address/);
  });

  it("adds a panel with the editor, marks unsaved changes and saves with the version", async () => {
    seed();
    const { container } = show("/dashboards/abc");
    await waitFor(() => expect(screen.getAllByTestId("dashboard-panel")).toHaveLength(2));
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    const add = screen.getByTestId("add-panel");
    add.focus();
    fireEvent.click(add);
    const editor = await screen.findByTestId("panel-editor");
    expect(editor.getAttribute("role")).toBe("dialog");
    expect(editor.getAttribute("aria-modal")).toBe("true");
    expect(document.activeElement).toBe(within(editor).getByLabelText("Title"));
    await noAxeViolations(container);

    // Esc closes without adding, focus back on "Add panel".
    fireEvent.keyDown(editor, { key: "Escape" });
    expect(screen.queryByTestId("panel-editor")).toBeNull();
    expect(document.activeElement).toBe(add);
    expect(screen.queryByTestId("unsaved-changes")).toBeNull();

    fireEvent.click(add);
    const again = await screen.findByTestId("panel-editor");
    fireEvent.change(within(again).getByLabelText("Title"), { target: { value: "Errors by model" } });
    fireEvent.change(within(again).getByLabelText("Kind"), { target: { value: "stacked_bar" } });
    fireEvent.change(within(again).getByLabelText("Group by (empty: none)"), { target: { value: "model_id" } });
    fireEvent.change(within(again).getByLabelText("Filters, one per line as field:op:value"), {
      target: { value: "status:eq:error" },
    });
    const jsonBox = within(again).getByLabelText(/^Query \(filters/) as HTMLTextAreaElement;
    expect(JSON.parse(jsonBox.value)).toEqual({
      filters: [{ field: "status", op: "eq", value: "error" }],
      aggregates: [{ fn: "count", as: "requests" }],
      limit: 1000,
      group_by: ["model_id"],
    });
    fireEvent.click(within(again).getByTestId("panel-editor-apply"));
    await waitFor(() => expect(screen.getAllByTestId("dashboard-panel")).toHaveLength(3));
    expect(screen.getByTestId("unsaved-changes").textContent).toMatch(/Unsaved changes/);

    fireEvent.click(screen.getByTestId("save-dashboard"));
    await waitFor(() => expect(screen.queryByTestId("unsaved-changes")).toBeNull());
    const put = hub.requests.find((r) => r.method === "PUT");
    const body = put?.body as DashboardDocument & { version: number };
    expect(body.version).toBe(1);
    expect(body.panels).toHaveLength(3);
    expect(body.panels[2]).toMatchObject({ title: "Errors by model", kind: "stacked_bar", layout: { x: 0, y: 8, w: 6, h: 8 } });
    expect(hub.dashboards.get("abc")?.version).toBe(2);
    expect((screen.getByTestId("save-dashboard") as HTMLButtonElement).disabled).toBe(true);
  });

  it("checks the JSON and shows the hub's 400 when the query fails", async () => {
    seed();
    show("/dashboards/abc");
    await waitFor(() => expect(screen.getAllByTestId("dashboard-panel")).toHaveLength(2));
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    fireEvent.click(screen.getByRole("button", { name: "Edit panel Requests" }));
    const editor = await screen.findByTestId("panel-editor");
    const jsonBox = within(editor).getByLabelText(/^Query \(filters/);
    fireEvent.change(jsonBox, { target: { value: '{"aggregates": [' } });
    expect(within(editor).getByText(/Not valid JSON/)).toBeTruthy();
    expect((within(editor).getByTestId("panel-editor-apply") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(jsonBox, { target: { value: '{"time_range": {"from": "x"}}' } });
    expect(within(editor).getByText(/dashboard's time range applies/)).toBeTruthy();
    fireEvent.change(jsonBox, { target: { value: '{"aggregates": [{"fn": "sum", "field": "bogus"}]}' } });
    expect(within(editor).queryByText(/Not valid JSON/)).toBeNull();
    fireEvent.click(within(editor).getByRole("button", { name: "Run query" }));
    expect((await within(editor).findByText(/unknown field 'bogus' in aggregates.0.field/)).textContent).toMatch(/bogus/);
  });

  it("arranges panels with the keyboard buttons", async () => {
    seed();
    show("/dashboards/abc");
    await waitFor(() => expect(screen.getAllByTestId("dashboard-panel")).toHaveLength(2));
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    const left = screen.getByRole("button", { name: "Move Requests left" });
    expect(left.getAttribute("aria-disabled")).toBe("true");
    fireEvent.click(left);
    expect(screen.queryByTestId("unsaved-changes")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Move Requests right" }));
    expect(screen.getByTestId("unsaved-changes")).toBeTruthy();
    expect(screen.getByRole("status", { hidden: true }).textContent ?? "").toBeDefined();
    await screen.findByText(/Requests: column 2, row 1, 6 wide, 8 high/);
    fireEvent.click(screen.getByRole("button", { name: "Make Requests wider" }));
    await screen.findByText(/Requests: column 2, row 1, 7 wide, 8 high/);
    fireEvent.click(screen.getByRole("button", { name: "Discard changes" }));
    expect(screen.queryByTestId("unsaved-changes")).toBeNull();
  });

  it("tells the user when someone else saved first, and reloads", async () => {
    seed();
    show("/dashboards/abc");
    await waitFor(() => expect(screen.getAllByTestId("dashboard-panel")).toHaveLength(2));
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    fireEvent.change(screen.getByLabelText("Dashboard name"), { target: { value: "Mine" } });
    // Someone else saves version 2 meanwhile.
    hub.dashboards.set("abc", { ...(hub.dashboards.get("abc") as Dashboard), name: "Theirs", version: 2 });
    fireEvent.click(screen.getByTestId("save-dashboard"));
    const alert = await screen.findByText(/Someone else saved this dashboard/);
    expect(alert).toBeTruthy();
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Reload their version" }));
    });
    await screen.findByRole("heading", { level: 1, name: "Theirs" });
    expect(screen.queryByTestId("unsaved-changes")).toBeNull();
  });
});
