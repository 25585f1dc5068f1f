import { describe, expect, it } from "vitest";
import { groupOptions, share, topEntries, widen } from "./shape";

const H = (h: number) => `2025-01-01T${String(h).padStart(2, "0")}:00:00Z`;

describe("widen", () => {
  const rows = [
    { bucket: H(0), model_id: "gemini-1.5-flash", p95: 100, requests: 5 },
    { bucket: H(0), model_id: "gpt-4o", p95: 200, requests: 50 },
    { bucket: "2025-01-01T02:00:00.000Z", model_id: "gpt-4o", p95: 300, requests: 50 },
    { bucket: H(0), model_id: "embed", p95: null, requests: 500 },
    { bucket: H(0), model_id: null, p95: 50, requests: 1 },
  ];
  it("keeps values as they are, null where a bucket has none, busiest first", () => {
    const out = widen(rows, { dimension: "model_id", value: "p95", weight: "requests", top: 8, starts: [H(0), H(1), H(2)] });
    expect(out.series).toEqual([
      { key: "s0", label: "gpt-4o", group: "gpt-4o" },
      { key: "s1", label: "gemini-1.5-flash", group: "gemini-1.5-flash" },
      { key: "s2", label: "(none)", group: null },
    ]);
    expect(out.data).toEqual([
      { bucket: H(0), s0: 200, s1: 100, s2: 50 },
      { bucket: H(1), s0: null, s1: null, s2: null },
      { bucket: H(2), s0: 300, s1: null, s2: null },
    ]);
  });
  it("keeps only the top groups", () => {
    const out = widen(rows, { dimension: "model_id", value: "p95", weight: "requests", top: 1, starts: [H(0)] });
    expect(out.series.map((s) => s.label)).toEqual(["gpt-4o"]);
    expect(out.data).toEqual([{ bucket: H(0), s0: 200 }]);
  });
});

describe("lists", () => {
  it("groupOptions ranks by weight and leaves out nulls", () => {
    expect(
      groupOptions(
        [
          { model_id: "a", requests: 1 },
          { model_id: "b", requests: 3 },
          { model_id: null, requests: 9 },
        ],
        "model_id",
        "requests",
      ),
    ).toEqual([
      { value: "b", label: "b" },
      { value: "a", label: "a" },
    ]);
  });
  it("topEntries sorts, drops rows without a value and cuts", () => {
    const rows = [
      { asset_id: "x", p95: 10 },
      { asset_id: null, p95: 30 },
      { asset_id: "y", p95: null },
      { asset_id: "z", p95: 20 },
    ];
    expect(topEntries(rows, "asset_id", "p95", 2)).toEqual([
      { key: null, value: 30 },
      { key: "z", value: 20 },
    ]);
  });
  it("share needs a whole", () => {
    expect(share(1, 4)).toBe(0.25);
    expect(share(1, 0)).toBeNull();
  });
});
