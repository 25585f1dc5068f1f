import { describe, expect, it } from "vitest";
import { bucketStarts, fillBuckets, pivot, topMovers } from "./shape";

describe("pivot", () => {
  const rows = [
    { bucket: "2026-01-01T01:00:00Z", model_id: "b", cost: 1 },
    { bucket: "2026-01-01T00:00:00Z", model_id: "a", cost: 5 },
    { bucket: "2026-01-01T00:00:00Z", model_id: "b", cost: 2 },
    { bucket: "2026-01-01T01:00:00Z", model_id: "c", cost: 0.5 },
    { bucket: "2026-01-01T01:00:00Z", model_id: null, cost: 0.25 },
  ];
  it("makes one row per bucket in time order, series ranked by total", () => {
    const wide = pivot(rows, "model_id", "cost", 8);
    expect(wide.series.map((s) => s.key)).toEqual(["a", "b", "c", "(none)"]);
    expect(wide.data).toEqual([
      { bucket: "2026-01-01T00:00:00Z", a: 5, b: 2, c: 0, "(none)": 0 },
      { bucket: "2026-01-01T01:00:00Z", a: 0, b: 1, c: 0.5, "(none)": 0.25 },
    ]);
  });
  it("adds the rest up in (other)", () => {
    const wide = pivot(rows, "model_id", "cost", 1);
    expect(wide.series.map((s) => s.key)).toEqual(["a", "(other)"]);
    expect(wide.data[1]).toEqual({ bucket: "2026-01-01T01:00:00Z", a: 0, "(other)": 1.75 });
  });
});

describe("buckets", () => {
  it("lists every start and fills the missing ones", () => {
    const starts = bucketStarts("2026-01-01T00:30:00Z", "2026-01-01T03:00:00Z", 3_600_000);
    expect(starts).toEqual(["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"]);
    // The API may render the same instant differently (offset, milliseconds).
    const filled = fillBuckets([{ bucket: "2026-01-01T01:00:00.000+00:00", n: 3 }], starts, ["n"], 0);
    expect(filled.map((r) => r.n)).toEqual([0, 3, 0]);
  });
});

describe("topMovers", () => {
  it("ranks by absolute change and marks new keys", () => {
    const movers = topMovers(
      [
        { m: "a", v: 10 },
        { m: "b", v: 1 },
        { m: "new", v: 4 },
      ],
      [
        { m: "a", v: 5 },
        { m: "b", v: 9 },
      ],
      "m",
      "v",
    );
    expect(movers.map((x) => x.key)).toEqual(["b", "a", "new"]);
    expect(movers[0]?.change).toBeCloseTo(-8 / 9);
    expect(movers[2]?.change).toBeNull();
  });
});
