import { describe, expect, it } from "vitest";
import {
  costPer1k,
  isTagKey,
  moverRows,
  parseSpendBy,
  parseTagKey,
  per1kTotal,
  periodChange,
  signedCost,
  withSpend,
  spendField,
  spendLabel,
  sumColumn,
} from "./shape";

const H = (h: number) => `2025-01-01T${String(h).padStart(2, "0")}:00:00Z`;

describe("spend dimension", () => {
  it("parses the URL's by and tag", () => {
    expect(parseSpendBy("provider")).toBe("provider");
    expect(parseSpendBy("tenant_id")).toBe("model_id");
    expect(parseSpendBy(null)).toBe("model_id");
    expect(parseTagKey(null)).toBe("team");
    expect(parseTagKey("k8s.io/app")).toBe("k8s.io/app");
    expect(parseTagKey("no spaces")).toBe("team");
  });
  it("checks tag keys as the API does", () => {
    expect(isTagKey("team")).toBe(true);
    expect(isTagKey("a:b/c-d_e.f")).toBe(true);
    expect(isTagKey("")).toBe(false);
    expect(isTagKey("x".repeat(129))).toBe(false);
    expect(isTagKey("tëam")).toBe(false);
    expect(isTagKey("a'b")).toBe(false);
  });
  it("names the field", () => {
    expect(spendField("tag", "team")).toBe("tags.team");
    expect(spendField("asset_id", "team")).toBe("asset_id");
    expect(spendLabel("asset_id", "team")).toBe("application");
    expect(spendLabel("tag", "region")).toBe('tag "region"');
  });
});

describe("costPer1k", () => {
  it("divides spend by priced calls per bucket, gaps where none", () => {
    const totals = [
      { bucket: H(0), cost: 2, requests: 1000 },
      { bucket: "2025-01-01T01:00:00.000Z", cost: 3, requests: 600 },
      { bucket: H(3), cost: 0, requests: 10 },
    ];
    const unpriced = [
      { bucket: H(1), unpriced: 100 },
      { bucket: H(3), unpriced: 10 },
    ];
    const out = costPer1k(totals, unpriced, [H(0), H(1), H(2), H(3)]);
    expect(out.map((p) => p.per1k)).toEqual([2, 6, null, null]);
    expect(out[1]).toMatchObject({ bucket: H(1), cost: 3, requests: 600, unpriced: 100 });
    expect(out[2]).toMatchObject({ cost: 0, requests: 0, unpriced: 0 });
  });
  it("per1kTotal over a whole range", () => {
    expect(per1kTotal(5, 1100, 100)).toBe(5);
    expect(per1kTotal(5, 10, 10)).toBeNull();
    expect(sumColumn([{ a: 1 }, { a: "2" }, { a: null }], "a")).toBe(3);
  });
});

describe("movers", () => {
  it("says the change in text as well as direction", () => {
    const rows = moverRows([
      { key: "a", current: 15, previous: 10, change: 0.5 },
      { key: "b", current: 2, previous: 4, change: -0.5 },
      { key: "c", current: 3, previous: 0, change: null },
      { key: "d", current: 1, previous: 1, change: 0 },
      { key: "e", current: 597, previous: 1, change: 596 },
      { key: "f", current: 0, previous: 0, change: null },
    ]);
    expect(rows.map((r) => [r.direction, r.changeText, r.deltaText])).toEqual([
      ["up", "+50 %", "+$5.00"],
      ["down", "-50 %", "−$2.00"],
      ["up", "new", "+$3.00"],
      ["flat", "0 %", "$0.00"],
      ["up", "×597", "+$596.00"],
    ]);
  });
  it("signs costs and periods", () => {
    expect(signedCost(-0.004)).toBe("−$0.0040");
    expect(periodChange(12, 10)).toBe("+20 % vs previous period");
    expect(periodChange(1, 0)).toBe("no spend in the previous period");
    expect(periodChange(600, 1)).toBe("×600 vs previous period");
  });
  it("withSpend drops rows without a cost", () => {
    expect(withSpend([{ cost: 0 }, { cost: null }, { cost: 0.5 }, {}])).toEqual([{ cost: 0.5 }]);
  });
});
