import { describe, expect, it } from "vitest";
import type { ResolvedRange } from "../../lib/time";
import { applyGridLayout, clampLayout, compact, placePanel, stepPanel, stepTarget } from "./layout";
import {
  aggregateAlias,
  applySimple,
  buildQuery,
  documentOf,
  duplicatePanel,
  examplePanels,
  explainSaveError,
  exportFileName,
  formatFilterLines,
  heatmapBucket,
  newDashboardDocument,
  parseFilterLines,
  parseImport,
  parsePanelQuery,
  refreshForDocument,
  sameDocument,
  shapeHeatmap,
  shapeSeries,
  simpleOf,
  singleNumber,
  specFromTimeRange,
  tableColumns,
  timeRangeFromSpec,
  valueFormat,
  type Dashboard,
  type Panel,
  type PanelQuery,
} from "./model";

const RANGE: ResolvedRange = { from: "2025-01-31T00:00:00Z", to: "2025-02-01T00:00:00Z", bucket: "5m" };

function panel(id: string, x: number, y: number, w: number, h: number): Panel {
  return { id, title: id, kind: "line", query: {}, layout: { x, y, w, h } };
}

describe("time range", () => {
  it("reads the hub's relative and absolute forms", () => {
    expect(specFromTimeRange({ relative: "7d", from: null, to: null })).toEqual({ kind: "relative", last: "7d" });
    expect(specFromTimeRange({ relative: "4w" })).toEqual({ kind: "relative", last: "28d" });
    expect(specFromTimeRange({ relative: "90m" })).toEqual({ kind: "relative", last: "90m" });
    expect(specFromTimeRange({ relative: "1d" })).toEqual({ kind: "relative", last: "24h" });
    expect(specFromTimeRange({ relative: "120000m" })).toEqual({ kind: "relative", last: "2000h" });
    expect(specFromTimeRange({ relative: null, from: "2025-01-01T00:00:00Z", to: "2025-01-02T00:00:00Z" })).toEqual({
      kind: "absolute",
      from: "2025-01-01T00:00:00Z",
      to: "2025-01-02T00:00:00Z",
    });
  });

  it("falls back to the default for what it cannot read", () => {
    expect(specFromTimeRange({ relative: "soon" })).toEqual({ kind: "relative", last: "24h" });
    expect(specFromTimeRange({ from: "2025-01-02T00:00:00Z", to: "2025-01-01T00:00:00Z" })).toEqual({ kind: "relative", last: "24h" });
    expect(specFromTimeRange(undefined)).toEqual({ kind: "relative", last: "24h" });
  });

  it("writes the UI's range in the hub's form", () => {
    expect(timeRangeFromSpec({ kind: "relative", last: "6h" })).toEqual({ relative: "6h" });
    expect(timeRangeFromSpec({ kind: "absolute", from: "a", to: "b" })).toEqual({ from: "a", to: "b" });
  });

  it("keeps refresh within what the hub takes", () => {
    expect(refreshForDocument(0)).toBeNull();
    expect(refreshForDocument(2)).toBe(5);
    expect(refreshForDocument(30)).toBe(30);
    expect(refreshForDocument(1e9)).toBe(86_400);
  });
});

describe("buildQuery", () => {
  it("adds the time range and, for charts over time, the range's bucket", () => {
    const q = buildQuery({ kind: "line", query: { group_by: ["model_id"], aggregates: [{ fn: "count" }] } }, RANGE);
    expect(q.time_range).toEqual({ from: RANGE.from, to: RANGE.to });
    expect(q.group_by).toEqual(["model_id", { bucket: "5m" }]);
    expect(q.limit).toBe(100);
  });

  it("keeps a bucket the query has, and adds none to tables and numbers", () => {
    const own = buildQuery({ kind: "bar", query: { group_by: [{ bucket: "1h" }], aggregates: [{ fn: "count" }] } }, RANGE);
    expect(own.group_by).toEqual([{ bucket: "1h" }]);
    const table = buildQuery({ kind: "table", query: { group_by: ["model_id"], limit: 20 } }, RANGE);
    expect(table.group_by).toEqual(["model_id"]);
    expect(table.limit).toBe(20);
    const number = buildQuery({ kind: "number", query: { aggregates: [{ fn: "count" }] } }, RANGE);
    expect(number.group_by).toBeUndefined();
  });

  it("gives heat maps a coarser bucket: a few dozen columns", () => {
    const at = (hours: number, bucket: ResolvedRange["bucket"]): ResolvedRange => ({
      from: "2025-01-01T00:00:00Z",
      to: new Date(Date.parse("2025-01-01T00:00:00Z") + hours * 3_600_000).toISOString(),
      bucket,
    });
    expect(heatmapBucket(at(1, "1m"))).toBe("5m");
    expect(heatmapBucket(at(6, "1m"))).toBe("15m");
    expect(heatmapBucket(at(24, "5m"))).toBe("1h");
    expect(heatmapBucket(at(24 * 30, "1d"))).toBe("1d");
  });

  it("gives heat maps a bucket too, and order_by a direction", () => {
    const q = buildQuery(
      { kind: "heatmap", query: { group_by: ["model_id"], order_by: [{ field: "count" }] } },
      RANGE,
    );
    expect(q.group_by).toEqual(["model_id", { bucket: "1h" }]);
    expect(q.order_by).toEqual([{ field: "count", direction: "asc" }]);
  });
});

describe("aggregateAlias", () => {
  it("follows the hub's naming", () => {
    expect(aggregateAlias({ fn: "count" })).toBe("count");
    expect(aggregateAlias({ fn: "p95", field: "latency_ms" })).toBe("p95_latency_ms");
    expect(aggregateAlias({ fn: "avg", field: "payload.score" })).toBe("avg_payload_score");
    expect(aggregateAlias({ fn: "sum", field: "cost_usd", as: "cost" })).toBe("cost");
  });
});

describe("filter lines", () => {
  it("parses field:op:value with typed values", () => {
    const parsed = parseFilterLines(
      "status:eq:error\n\nmodel_id:in:gpt-4o, claude\nlatency_ms:gt:1000\npayload.score:gte:0.8\nasset_id:eq:\ntags.k8s.io/app:eq:web",
    );
    expect(parsed).toEqual({
      ok: true,
      value: [
        { field: "status", op: "eq", value: "error" },
        { field: "model_id", op: "in", value: ["gpt-4o", "claude"] },
        { field: "latency_ms", op: "gt", value: 1000 },
        { field: "payload.score", op: "gte", value: 0.8 },
        { field: "asset_id", op: "eq", value: null },
        { field: "tags.k8s.io/app", op: "eq", value: "web" },
      ],
    });
  });

  it("keeps text fields as text even when they look like numbers", () => {
    const parsed = parseFilterLines("user_id:eq:42\nmodel_id:not_in:1,2");
    expect(parsed.ok && parsed.value).toEqual([
      { field: "user_id", op: "eq", value: "42" },
      { field: "model_id", op: "not_in", value: ["1", "2"] },
    ]);
  });

  it("says which line is wrong", () => {
    const parsed = parseFilterLines("status:eq:ok\nmodel_id=gpt");
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(/^Line 2/);
    const empty = parseFilterLines("model_id:in:");
    expect(!empty.ok && empty.error).toMatch(/comma-separated/);
  });

  it("round-trips through the text form", () => {
    const filters = [
      { field: "status", op: "eq" as const, value: "error" },
      { field: "model_id", op: "in" as const, value: ["a", "b"] },
      { field: "asset_id", op: "eq" as const, value: null },
    ];
    const text = formatFilterLines(filters);
    expect(text).toBe("status:eq:error\nmodel_id:in:a,b\nasset_id:eq:");
    expect(parseFilterLines(text)).toEqual({ ok: true, value: filters });
  });
});

describe("the simple form", () => {
  const query: PanelQuery = {
    filters: [{ field: "status", op: "eq", value: "error" }],
    group_by: ["model_id", { bucket: "1h" }],
    aggregates: [{ fn: "p95", field: "latency_ms", as: "p95" }],
    order_by: [{ field: "p95", direction: "desc" }],
    limit: 50,
  };

  it("reads the first metric and dimension", () => {
    expect(simpleOf(query)).toEqual({ fn: "p95", field: "latency_ms", dimension: "model_id" });
    expect(simpleOf({})).toEqual({ fn: "count", field: "", dimension: "" });
  });

  it("replaces them, keeping the bucket, the filters and the order on the metric", () => {
    const next = applySimple(query, { fn: "avg", field: "latency_ms", dimension: "provider" });
    expect(next.aggregates).toEqual([{ fn: "avg", field: "latency_ms" }]);
    expect(next.group_by).toEqual(["provider", { bucket: "1h" }]);
    expect(next.order_by).toEqual([{ field: "avg_latency_ms", direction: "desc" }]);
    expect(next.filters).toBe(query.filters);
    expect(next.limit).toBe(50);
  });

  it("drops the dimension and an order on it", () => {
    const next = applySimple(
      { group_by: ["model_id"], aggregates: [{ fn: "count" }], order_by: [{ field: "model_id" }] },
      { fn: "count", field: "", dimension: "" },
    );
    expect(next.group_by).toBeUndefined();
    expect(next.order_by).toBeUndefined();
    expect(next.aggregates).toEqual([{ fn: "count" }]);
  });

  it("keeps a chosen name while the metric stays the same", () => {
    const next = applySimple(query, { fn: "p95", field: "latency_ms", dimension: "" });
    expect(next.aggregates).toEqual([{ fn: "p95", field: "latency_ms", as: "p95" }]);
    expect(next.group_by).toEqual([{ bucket: "1h" }]);
  });
});

describe("parsePanelQuery", () => {
  it("accepts a panel query", () => {
    const text = JSON.stringify({ aggregates: [{ fn: "count" }], group_by: ["model_id", { bucket: "1h" }], limit: 10 });
    expect(parsePanelQuery(text)).toEqual({
      ok: true,
      value: { aggregates: [{ fn: "count" }], group_by: ["model_id", { bucket: "1h" }], limit: 10 },
    });
  });

  it("explains what is wrong", () => {
    const cases: [string, RegExp][] = [
      ["{", /Not valid JSON/],
      ["[]", /JSON object/],
      ['{"time_range": {}}', /dashboard's time range/],
      ['{"cursor": "x"}', /Remove cursor/],
      ['{"having": 1}', /Unknown key "having"/],
      ['{"aggregates": [{"fn": "median"}]}', /aggregates\.0\.fn/],
      ['{"filters": [{"field": "a", "op": "like"}]}', /filters\.0\.op/],
      ['{"group_by": [{"bucket": "2h"}]}', /group_by\.0/],
      ['{"order_by": [{"field": "a", "direction": "up"}]}', /order_by\.0\.direction/],
      ['{"limit": 0}', /limit/],
    ];
    for (const [text, message] of cases) {
      const parsed = parsePanelQuery(text);
      expect(parsed.ok, text).toBe(false);
      expect(!parsed.ok && parsed.error, text).toMatch(message);
    }
  });
});

describe("shapeSeries", () => {
  const starts = ["2025-01-31T00:00:00Z", "2025-01-31T01:00:00Z", "2025-01-31T02:00:00Z"];

  it("draws one series per aggregate without a dimension, filling empty buckets", () => {
    const rows = [
      { bucket: "2025-01-31T01:00:00Z", requests: 5, p95: 120 },
      { bucket: "2025-01-31T00:00:00Z", requests: 3, p95: 100 },
    ];
    const shape = shapeSeries(rows, { aggregates: [{ fn: "count", as: "requests" }, { fn: "p95", field: "latency_ms", as: "p95" }] }, starts);
    expect(shape.series.map((s) => s.key)).toEqual(["requests", "p95"]);
    expect(shape.data).toEqual([
      { bucket: "2025-01-31T00:00:00Z", requests: 3, p95: 100 },
      { bucket: "2025-01-31T01:00:00Z", requests: 5, p95: 120 },
      { bucket: "2025-01-31T02:00:00Z", requests: 0, p95: null },
    ]);
    expect(shape.note).toBeNull();
  });

  it("pivots by the dimension", () => {
    const rows = [
      { bucket: "2025-01-31T00:00:00Z", model_id: "a", requests: 1 },
      { bucket: "2025-01-31T00:00:00Z", model_id: "b", requests: 4 },
      { bucket: "2025-01-31T01:00:00Z", model_id: "a", requests: 2 },
    ];
    const shape = shapeSeries(rows, { group_by: ["model_id"], aggregates: [{ fn: "count", as: "requests" }] }, starts);
    expect(shape.series.map((s) => s.key)).toEqual(["b", "a"]);
    expect(shape.data[1]).toEqual({ bucket: "2025-01-31T01:00:00Z", a: 2, b: 0 });
    expect(shape.data[2]).toEqual({ bucket: "2025-01-31T02:00:00Z", a: 0, b: 0 });
  });

  it("does not add up percentiles into (other)", () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ bucket: starts[0], model_id: `m${i}`, p95: 100 + i }));
    const shape = shapeSeries(rows, { group_by: ["model_id"], aggregates: [{ fn: "p95", field: "latency_ms", as: "p95" }] });
    expect(shape.series).toHaveLength(8);
    expect(shape.series.some((s) => s.key === "(other)")).toBe(false);
    expect(shape.data[0]).not.toHaveProperty("(other)");
    expect(shape.note).toMatch(/top 8/);
  });

  it("joins several dimensions into one label", () => {
    const rows = [{ bucket: starts[0], model_id: "a", status: "error", count: 2 }];
    const shape = shapeSeries(rows, { group_by: ["model_id", "status"], aggregates: [{ fn: "count" }] });
    expect(shape.series.map((s) => s.key)).toEqual(["a · error"]);
  });

  it("says so when there is nothing to draw", () => {
    expect(shapeSeries([], {}).note).toMatch(/aggregate/);
  });
});

describe("other shapes", () => {
  it("heat map rows name their dimension and value", () => {
    const shape = shapeHeatmap([{ bucket: "x", model_id: "a", count: 1 }], { group_by: ["model_id"], aggregates: [{ fn: "count" }] });
    expect(shape.dimension).toBe("model_id");
    expect(shape.value).toBe("count");
    expect(shapeHeatmap([], { aggregates: [{ fn: "count" }] }).dimension).toBeNull();
  });

  it("a single number is the first aggregate of the first row", () => {
    expect(singleNumber([{ cost: 3.5 }], { aggregates: [{ fn: "sum", field: "cost_usd", as: "cost" }] })).toEqual({ value: 3.5, label: null });
    expect(singleNumber([{ model_id: "a", count: 2 }], { group_by: ["model_id"], aggregates: [{ fn: "count" }] })).toEqual({
      value: 2,
      label: "model_id = a",
    });
    expect(singleNumber([], { aggregates: [{ fn: "count" }] }).value).toBeNull();
    expect(singleNumber([{ avg: null }], { aggregates: [{ fn: "avg", field: "latency_ms", as: "avg" }] }).value).toBeNull();
  });

  it("table columns: group keys, then aggregates", () => {
    const rows = [{ cost: 1, model_id: "a", requests: 3 }];
    const columns = tableColumns(rows, {
      group_by: ["model_id"],
      aggregates: [{ fn: "sum", field: "cost_usd", as: "cost" }, { fn: "count", as: "requests" }],
    });
    expect(columns.map((c) => [c.key, c.numeric])).toEqual([
      ["model_id", false],
      ["cost", true],
      ["requests", true],
    ]);
  });

  it("formats by what is measured", () => {
    expect(valueFormat({ fn: "sum", field: "cost_usd" })).toBe("cost");
    expect(valueFormat({ fn: "p95", field: "latency_ms" })).toBe("ms");
    expect(valueFormat({ fn: "count", field: "latency_ms" })).toBe("count");
    expect(valueFormat({ fn: "sum", field: "output_tokens" })).toBe("count");
    expect(valueFormat({ fn: "avg", field: "output_tokens" })).toBe("number");
    expect(valueFormat(undefined)).toBe("number");
    expect(valueFormat({ fn: "sum", field: "payload.amount" }, { unit: "usd" })).toBe("cost");
    expect(valueFormat({ fn: "sum", field: "cost_usd" }, { unit: "nonsense" })).toBe("cost");
  });
});

describe("documents", () => {
  const saved: Dashboard = {
    ...newDashboardDocument("Ops"),
    id: "abc",
    version: 3,
    created_at: "2025-01-01T00:00:00Z",
    updated_at: "2025-01-02T00:00:00Z",
    time_range: { relative: "24h", from: null, to: null },
  };

  it("a new dashboard is never blank, and its example panels fit the grid", () => {
    const doc = newDashboardDocument();
    expect(doc.panels.length).toBeGreaterThanOrEqual(2);
    expect(doc.panels.map((p) => p.kind)).toContain("table");
    for (const p of doc.panels) {
      expect(p.layout.x + p.layout.w).toBeLessThanOrEqual(12);
      expect(p.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
      expect(p.query).not.toHaveProperty("time_range");
    }
    expect(new Set(doc.panels.map((p) => p.id)).size).toBe(doc.panels.length);
  });

  it("documentOf drops the bookkeeping and the other range form", () => {
    const doc = documentOf(saved);
    expect(doc).not.toHaveProperty("id");
    expect(doc).not.toHaveProperty("version");
    expect(doc.time_range).toEqual({ relative: "24h" });
  });

  it("sameDocument ignores key order and the hub's defaults", () => {
    const fromHub: Dashboard = {
      ...saved,
      panels: saved.panels.map((p) => ({
        ...p,
        options: {},
        query: { limit: 100, order_by: [], ...p.query, aggregates: (p.query.aggregates ?? []).map((a) => ({ as: null, field: null, ...a })) },
      })),
    };
    expect(sameDocument(saved, fromHub)).toBe(true);
    expect(sameDocument(saved, { ...saved, name: "Other" })).toBe(false);
    const moved = { ...saved, panels: saved.panels.map((p, i) => (i === 0 ? { ...p, layout: { ...p.layout, x: 1 } } : p)) };
    expect(sameDocument(saved, moved)).toBe(false);
  });

  it("imports an export, and refuses what is not a dashboard", () => {
    const parsed = parseImport(JSON.stringify(saved));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.value).not.toHaveProperty("id");
      expect(parsed.value.name).toBe("Ops");
      expect(parsed.value.panels).toHaveLength(saved.panels.length);
      expect(parsed.value.time_range).toEqual({ relative: "24h" });
    }
    expect(parseImport("nope").ok).toBe(false);
    expect(parseImport("[]").ok).toBe(false);
    expect(parseImport('{"panels": []}').ok).toBe(false);
    expect(parseImport('{"name": "x", "panels": 3}').ok).toBe(false);
  });

  it("names export files after the dashboard", () => {
    expect(exportFileName("LLM cost — prod/EU")).toBe("llm-cost-prod-eu.json");
    expect(exportFileName("???")).toBe("dashboard.json");
  });

  it("names the panel in a save error", () => {
    const panels = examplePanels();
    expect(explainSaveError("panels.1.query: unknown field 'x'", panels)).toMatch(/^Panel "p95 latency by model" \(number 2\)/);
    expect(explainSaveError("name: too long", panels)).toBe("name: too long");
  });

  it("duplicates a panel right after it, with a new id", () => {
    const panels = examplePanels();
    const next = duplicatePanel(panels, panels[0]!.id);
    expect(next).toHaveLength(panels.length + 1);
    expect(next[1]!.title).toBe("Requests per hour (copy)");
    expect(next[1]!.id).not.toBe(panels[0]!.id);
    expect(duplicatePanel(panels, "missing")).toBe(panels);
  });
});

describe("layout", () => {
  it("clamps to the grid", () => {
    expect(clampLayout({ x: 11, y: -2, w: 6, h: 0 })).toEqual({ x: 6, y: 0, w: 6, h: 1 });
    expect(clampLayout({ x: 0.4, y: 2.6, w: 40, h: 8 })).toEqual({ x: 0, y: 3, w: 12, h: 8 });
  });

  it("compacts upwards, and returns the same array when nothing moves", () => {
    const panels = [panel("a", 0, 3, 6, 4), panel("b", 0, 10, 6, 4)];
    expect(compact(panels).map((p) => p.layout.y)).toEqual([0, 4]);
    const tidy = compact(panels);
    expect(compact(tidy)).toBe(tidy);
  });

  it("moves left and right, pushing what it lands on down", () => {
    const panels = [panel("a", 0, 0, 6, 4), panel("b", 6, 0, 6, 4)];
    expect(stepTarget(panels, "a", "left")).toBeNull();
    const next = stepPanel(panels, "a", "right");
    expect(next.find((p) => p.id === "a")!.layout).toEqual({ x: 1, y: 0, w: 6, h: 4 });
    expect(next.find((p) => p.id === "b")!.layout).toEqual({ x: 6, y: 4, w: 6, h: 4 });
  });

  it("moves up and down by swapping with the neighbour", () => {
    const panels = [panel("a", 0, 0, 6, 4), panel("b", 0, 4, 6, 6), panel("c", 6, 0, 6, 3)];
    expect(stepTarget(panels, "a", "up")).toBeNull();
    const down = stepPanel(panels, "a", "down");
    expect(down.find((p) => p.id === "b")!.layout.y).toBe(0);
    expect(down.find((p) => p.id === "a")!.layout.y).toBe(6);
    expect(down.find((p) => p.id === "c")!.layout).toEqual({ x: 6, y: 0, w: 6, h: 3 });
    const up = stepPanel(down, "a", "up");
    expect(up.find((p) => p.id === "a")!.layout.y).toBe(0);
    expect(up.find((p) => p.id === "b")!.layout.y).toBe(4);
    expect(stepTarget(up, "b", "down")).toBeNull();
  });

  it("resizes within limits", () => {
    const panels = [panel("a", 6, 0, 6, 4), panel("b", 0, 4, 12, 4)];
    const wider = stepPanel(panels, "a", "wider");
    expect(wider.find((p) => p.id === "a")!.layout).toEqual({ x: 5, y: 0, w: 7, h: 4 });
    const taller = stepPanel(panels, "a", "taller");
    expect(taller.find((p) => p.id === "a")!.layout.h).toBe(5);
    expect(taller.find((p) => p.id === "b")!.layout.y).toBe(5);
    expect(stepTarget([panel("n", 0, 0, 2, 3)], "n", "narrower")).toBeNull();
    expect(stepTarget([panel("n", 0, 0, 2, 3)], "n", "shorter")).toBeNull();
    expect(stepTarget([panel("n", 0, 0, 12, 3)], "n", "wider")).toBeNull();
  });

  it("takes the grid's layout only when it differs", () => {
    const panels = [panel("a", 0, 0, 6, 4), panel("b", 6, 0, 6, 4)];
    expect(applyGridLayout(panels, panels.map((p) => ({ i: p.id, ...p.layout })))).toBe(panels);
    const next = applyGridLayout(panels, [{ i: "a", x: 0, y: 0, w: 8, h: 4 }]);
    expect(next[0]!.layout.w).toBe(8);
    expect(next[1]).toBe(panels[1]);
  });

  it("places a panel where asked, out of others' way", () => {
    const panels = [panel("a", 0, 0, 12, 4), panel("b", 0, 4, 6, 4)];
    const next = placePanel(panels, "b", { x: 0, y: 0, w: 6, h: 4 });
    expect(next.find((p) => p.id === "b")!.layout).toEqual({ x: 0, y: 0, w: 6, h: 4 });
    expect(next.find((p) => p.id === "a")!.layout).toEqual({ x: 0, y: 4, w: 12, h: 4 });
  });
});
