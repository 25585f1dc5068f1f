import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/client";
import type { QueryResult } from "../../api/types";
import { groupKey, keyFilter, present } from "./filters";
import { collectPages, maxRowsFrom, sourceNote, typedQuery } from "./query";

function page(rows: Record<string, unknown>[], next: string | null, source: "raw" | "rollup" = "rollup"): QueryResult {
  return { rows, next_cursor: next, meta: { source, plan: [], elapsed_ms: 1, approximate_percentiles: false } };
}

describe("keyFilter", () => {
  it("selects a value with eq", () => {
    expect(keyFilter("model_id", "gpt-4o", ["gpt-4o", null])).toBe("model_id:eq:gpt-4o");
  });
  it("selects the missing value as none of the others", () => {
    expect(keyFilter("tags.team", null, ["a", null, "b", "a"])).toBe("tags.team:not_in:a,b");
  });
  it("needs no filter when nothing else has a value", () => {
    expect(keyFilter("error_type", null, [null])).toBeNull();
  });
  it("cannot say a field with a colon", () => {
    expect(keyFilter("tags.a:b", "x", ["x"])).toBeNull();
  });
  it("cannot list a value with a comma", () => {
    expect(keyFilter("x", null, ["a,b"])).toBeNull();
  });
  it("present drops what could not be said", () => {
    expect(present("a:eq:1", null, undefined, "", "b:eq:2")).toEqual(["a:eq:1", "b:eq:2"]);
  });
  it("groupKey makes missing values null", () => {
    expect([groupKey(null), groupKey(undefined), groupKey(""), groupKey(3)]).toEqual([null, null, null, "3"]);
  });
});

describe("collectPages", () => {
  it("follows cursors to the last page", async () => {
    const fetch = vi
      .fn<(cursor: string | null, limit: number) => Promise<QueryResult>>()
      .mockResolvedValueOnce(page([{ a: 1 }], "c1", "raw"))
      .mockResolvedValueOnce(page([{ a: 2 }], "c2"))
      .mockResolvedValueOnce(page([{ a: 3 }], null));
    const out = await collectPages(fetch, 1);
    expect(out).toEqual({ rows: [{ a: 1 }, { a: 2 }, { a: 3 }], source: "raw", truncated: false });
    expect(fetch.mock.calls.map((c) => c[0])).toEqual([null, "c1", "c2"]);
  });
  it("stops after maxPages and says so", async () => {
    const fetch = vi.fn(async () => page([{ a: 1 }], "more"));
    const out = await collectPages(fetch, 10, 3);
    expect(out.rows).toHaveLength(3);
    expect(out.truncated).toBe(true);
  });
  it("lowers the page size to the hub's maximum", async () => {
    const refusal = new ApiError(
      400,
      "invalid_request",
      "limit 1000 is above the maximum of 100 rows (query_max_rows); page with the cursor instead",
    );
    const fetch = vi
      .fn<(cursor: string | null, limit: number) => Promise<QueryResult>>()
      .mockRejectedValueOnce(refusal)
      .mockResolvedValueOnce(page([{ a: 1 }], "c"))
      .mockResolvedValueOnce(page([{ a: 2 }], null));
    const out = await collectPages(fetch, 1000);
    expect(out.rows).toHaveLength(2);
    expect(fetch.mock.calls.map((c) => c[1])).toEqual([1000, 100, 100]);
  });
  it("passes other errors on", async () => {
    const fetch = vi.fn(async () => {
      throw new ApiError(400, "invalid_request", "unknown field 'x'");
    });
    await expect(collectPages(fetch)).rejects.toThrow("unknown field");
  });
  it("maxRowsFrom reads only the limit refusal", () => {
    expect(maxRowsFrom(new ApiError(400, "invalid_request", "… the maximum of 250 rows …"))).toBe(250);
    expect(maxRowsFrom(new ApiError(500, "x", "the maximum of 250 rows"))).toBeNull();
    expect(maxRowsFrom(new Error("the maximum of 250 rows"))).toBeNull();
  });
});

describe("typedQuery", () => {
  it("builds the body without limit and cursor", () => {
    const q = typedQuery(
      { from: "2025-01-01T00:00:00Z", to: "2025-01-02T00:00:00Z" },
      { groupBy: ["model_id", { bucket: "1h" }], aggregates: [{ fn: "count", as: "n" }] },
    );
    expect(q).toEqual({
      time_range: { from: "2025-01-01T00:00:00Z", to: "2025-01-02T00:00:00Z" },
      filters: [],
      group_by: ["model_id", { bucket: "1h" }],
      aggregates: [{ fn: "count", as: "n" }],
    });
  });
  it("sourceNote says where numbers come from", () => {
    expect(sourceNote("raw")).toBe("from raw events (slower)");
    expect(sourceNote("rollup", true)).toBe("from rollups; first rows only");
  });
});

describe("formatCountAxis", () => {
  it("keeps fractional ticks apart", async () => {
    const { formatCountAxis } = await import("./format");
    expect([0, 0.25, 0.5, 1, 12_345].map(formatCountAxis)).toEqual(["0", "0.25", "0.5", "1", "12.3K"]);
  });
});
