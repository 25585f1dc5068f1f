import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import axe from "axe-core";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EventEnvelope, Filter } from "../../api/types";
import type { LiveHandlers } from "../../live/stream";
import Explorer from "../Explorer";

// The live feed is replaced by a recorder: the tests hand it events as the hub would.
const live = vi.hoisted(() => ({
  enabled: false,
  filters: [] as unknown[],
  handlers: {} as Record<string, unknown>,
}));
vi.mock("../../live/useLive", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../live/useLive")>();
  return {
    ...actual,
    useLive: (enabled: boolean, filters: Filter[], handlers: LiveHandlers) => {
      live.enabled = enabled;
      live.filters = filters;
      live.handlers = handlers as Record<string, unknown>;
      return { status: enabled ? "live" : "offline", detail: null };
    },
  };
});

function ev(id: string, second: number, extra: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    event_id: id,
    timestamp: new Date(Date.now() - 60_000 + second * 1000).toISOString(),
    source_module: "llm-observatory",
    event_type: "telemetry",
    severity: "info",
    asset_id: "chat-app",
    correlation_id: `corr-${id}`,
    payload: {
      payload_type: "telemetry",
      data: { telemetry_type: "llm_call", model_id: "gpt-4o", status: "ok", latency_ms: 1234, cost_usd: 0.002 },
    },
    hub: { cost_usd: 0.002 },
    ...extra,
  };
}

const PAGE1 = [ev("e3", 30), ev("e2", 20)];
const PAGE2 = [ev("e1", 10)];
let requests: URL[] = [];

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

beforeEach(() => {
  requests = [];
  live.handlers = {};
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string) => {
      const url = new URL(input, "http://hub.test");
      requests.push(url);
      const one = /^\/api\/v1\/events\/(.+)$/.exec(url.pathname);
      if (one) {
        const found = [...PAGE1, ...PAGE2].find((e) => e.event_id === decodeURIComponent(one[1] as string));
        return found ? json(found) : json({ error: { code: "not_found", message: "no event" } }, 404);
      }
      const filters = url.searchParams.getAll("filter");
      if (filters.some((f) => f.startsWith("modelx"))) {
        return json({ error: { code: "invalid_request", message: "unknown field 'modelx'" } }, 400);
      }
      if (filters.includes("model_id:eq:none")) return json({ events: [], next_cursor: null });
      return url.searchParams.get("cursor") === "c2"
        ? json({ events: PAGE2, next_cursor: null })
        : json({ events: PAGE1, next_cursor: "c2" });
    }),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

let location = "";
function Where() {
  const l = useLocation();
  location = l.search;
  return null;
}

function show(search: string) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[`/explorer${search}`]}>
        <main id="main" tabIndex={-1}>
          <Routes>
            <Route path="/explorer" element={<Explorer />} />
          </Routes>
        </main>
        <Where />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

const params = () => new URLSearchParams(location);

describe("Explorer", () => {
  it("lists the events of the URL's filters and range, newest first, and loads more", async () => {
    show("?range=24h&f=model_id:eq:gpt-4o");
    await waitFor(() => expect(screen.getAllByTestId("explorer-row")).toHaveLength(2));
    const first = requests[0] as URL;
    expect(first.pathname).toBe("/api/v1/events");
    expect(first.searchParams.getAll("filter")).toEqual(["model_id:eq:gpt-4o"]);
    expect(first.searchParams.get("from")).toMatch(/Z$/);
    const row = screen.getAllByTestId("explorer-row")[0] as HTMLElement;
    expect(within(row).getByText("telemetry / llm_call")).toBeTruthy();
    expect(within(row).getByText("1.23 s")).toBeTruthy();
    expect(screen.getAllByTestId("filter-chip").map((c) => c.textContent)).toEqual(["model_id = gpt-4o×"]);

    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(screen.getAllByTestId("explorer-row")).toHaveLength(3));
    expect(requests.at(-1)?.searchParams.get("cursor")).toBe("c2");
    expect(screen.getByText(/All 3 events of this range are listed/)).toBeTruthy();
  });

  it("opens an event on Enter, closes on Esc and gives focus back to its row", async () => {
    show("?range=24h");
    await waitFor(() => expect(screen.getAllByTestId("explorer-row")).toHaveLength(2));
    const row = screen.getAllByTestId("explorer-row")[1] as HTMLElement;
    row.focus();
    fireEvent.keyDown(row, { key: "Enter" });
    const drawer = await screen.findByTestId("event-drawer");
    expect(params().get("event")).toBe("e2");
    expect(drawer.getAttribute("role")).toBe("dialog");
    expect(drawer.getAttribute("aria-modal")).toBe("true");
    expect(screen.getByRole("dialog", { name: "Event details" })).toBe(drawer);
    expect(document.activeElement?.textContent).toBe("Close");
    await waitFor(() => expect(requests.some((u) => u.pathname === "/api/v1/events/e2")).toBe(true));
    expect(within(drawer).getByTestId("event-json").textContent).toContain('"event_id": "e2"');

    fireEvent.keyDown(document, { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("event-drawer")).toBeNull());
    expect(params().get("event")).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(screen.getAllByTestId("explorer-row")[1]));
  });

  it("opens the event named in the URL, and moves between rows with the arrow keys", async () => {
    show("?range=24h&event=e3");
    expect(await screen.findByTestId("event-drawer")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Close" }));
    await waitFor(() => expect(screen.queryByTestId("event-drawer")).toBeNull());
    const rows = screen.getAllByTestId("explorer-row");
    await waitFor(() => expect(document.activeElement).toBe(rows[0]));
    fireEvent.keyDown(rows[0] as HTMLElement, { key: "ArrowDown" });
    expect(document.activeElement).toBe(rows[1]);
  });

  it("adds filters from the builder, checks them first, and removes them", async () => {
    show("?range=24h");
    await waitFor(() => expect(screen.getAllByTestId("explorer-row")).toHaveLength(2));
    fireEvent.change(screen.getByLabelText("Field"), { target: { value: "latency_ms" } });
    fireEvent.change(screen.getByLabelText("Operator"), { target: { value: "gte" } });
    fireEvent.change(screen.getByLabelText("Value"), { target: { value: "slow" } });
    fireEvent.click(screen.getByTestId("add-filter"));
    expect(screen.getByRole("alert").textContent).toMatch(/latency_ms takes a number/);
    expect(params().getAll("f")).toEqual([]);

    fireEvent.change(screen.getByLabelText("Value"), { target: { value: "2500" } });
    fireEvent.click(screen.getByTestId("add-filter"));
    expect(params().getAll("f")).toEqual(["latency_ms:gte:2500"]);

    fireEvent.change(screen.getByLabelText("Field"), { target: { value: "tags." } });
    fireEvent.change(screen.getByLabelText("Tag key"), { target: { value: "team" } });
    fireEvent.change(screen.getByLabelText("Operator"), { target: { value: "in" } });
    fireEvent.change(screen.getByLabelText("Values"), { target: { value: "search, billing" } });
    fireEvent.click(screen.getByTestId("add-filter"));
    expect(params().getAll("f")).toEqual(["latency_ms:gte:2500", "tags.team:in:search,billing"]);
    expect(screen.getAllByTestId("filter-chip")).toHaveLength(2);
    expect(params().get("range")).toBe("24h");

    fireEvent.click(screen.getByRole("button", { name: "Remove filter latency_ms ≥ 2500" }));
    expect(params().getAll("f")).toEqual(["tags.team:in:search,billing"]);
    fireEvent.click(screen.getByRole("button", { name: "Clear all filters" }));
    expect(params().getAll("f")).toEqual([]);
    expect(screen.queryAllByTestId("filter-chip")).toHaveLength(0);
  });

  it("shows the hub's message about an invalid filter next to the filters", async () => {
    show("?range=24h&f=modelx:eq:a");
    const alert = await screen.findByText(/unknown field 'modelx'/);
    const filters = screen.getByRole("heading", { name: "Filters" }).closest("section") as HTMLElement;
    expect(filters.contains(alert)).toBe(true);
    expect(screen.getByText(/The hub refused the filters/)).toBeTruthy();
    expect(live.enabled).toBe(false);
    fireEvent.click(screen.getByRole("button", { name: /Remove filter modelx/ }));
    await waitFor(() => expect(screen.getAllByTestId("explorer-row")).toHaveLength(2));
  });

  it("says what to do when nothing matches", async () => {
    show("?range=1h&f=model_id:eq:none");
    expect(await screen.findByText(/No events match these filters/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Remove all filters" }));
    await waitFor(() => expect(screen.getAllByTestId("explorer-row")).toHaveLength(2));
  });

  it("prepends live events matching the filters, once each, and reports dropped ones", async () => {
    show("?range=24h&f=latency_ms:gt:1000&f=status:in:ok,error");
    await waitFor(() => expect(screen.getAllByTestId("explorer-row")).toHaveLength(2));
    expect(live.enabled).toBe(true);
    expect(live.filters).toEqual([
      { field: "latency_ms", op: "gt", value: 1000 },
      { field: "status", op: "in", value: ["ok", "error"] },
    ]);
    const onEvents = live.handlers.onEvents as (e: EventEnvelope[]) => void;
    act(() => onEvents([ev("n1", 50), ev("e3", 30)]));
    act(() => onEvents([ev("n1", 50), ev("n2", 55)]));
    const ids = screen.getAllByTestId("explorer-row").map((r) => r.dataset.eventId);
    expect(ids).toEqual(["n2", "n1", "e3", "e2"]);
    expect(screen.getAllByText("new")).toHaveLength(2);

    act(() => (live.handlers.onDropped as (n: number) => void)(7));
    expect(screen.getByText("7 events were not shown live; refresh to see them.")).toBeTruthy();

    // The live switch turns the feed off.
    fireEvent.click(screen.getByRole("switch", { name: "Live" }));
    expect(live.enabled).toBe(false);
  });

  it("keeps live off by default for an absolute range", async () => {
    show("?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z");
    await waitFor(() => expect(screen.getAllByTestId("explorer-row")).toHaveLength(2));
    expect(live.enabled).toBe(false);
    expect((screen.getByRole("switch", { name: "Live" }) as HTMLInputElement).checked).toBe(false);
  });

  it("has no axe violations, with the drawer closed and open", async () => {
    // jsdom has no canvas (axe measures icon fonts with one): let axe skip that check.
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
    const { container } = show("?range=24h&f=model_id:eq:gpt-4o");
    await waitFor(() => expect(screen.getAllByTestId("explorer-row")).toHaveLength(2));
    const options = { rules: { "color-contrast": { enabled: false } } };
    let result = await axe.run(container, options);
    expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(" | ")}`)).toEqual([]);
    fireEvent.click(screen.getAllByTestId("explorer-row")[0] as HTMLElement);
    await screen.findByTestId("event-json");
    result = await axe.run(container, options);
    expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(" | ")}`)).toEqual([]);
  });
});
