import { describe, expect, it } from "vitest";
import { bucketFor, durationMs, parseRange, previousRange, resolveRange, withRange } from "./time";

describe("durationMs", () => {
  it("reads minutes, hours and days", () => {
    expect(durationMs("15m")).toBe(900_000);
    expect(durationMs("24h")).toBe(86_400_000);
    expect(durationMs("7d")).toBe(7 * 86_400_000);
  });
  it("refuses anything else", () => {
    for (const bad of ["", "0h", "h", "1w", "-1h", "1.5h", "12345h"]) expect(durationMs(bad)).toBeNull();
  });
});

describe("bucketFor", () => {
  it("keeps charts between about 60 and 200 points", () => {
    expect(bucketFor(3_600_000)).toBe("1m");
    expect(bucketFor(6 * 3_600_000)).toBe("5m");
    expect(bucketFor(86_400_000)).toBe("15m");
    expect(bucketFor(7 * 86_400_000)).toBe("1h");
    expect(bucketFor(30 * 86_400_000)).toBe("1d");
  });
});

describe("resolveRange", () => {
  it("ends a relative range on the next whole minute", () => {
    const now = Date.parse("2026-01-10T12:34:56.789Z");
    const r = resolveRange({ kind: "relative", last: "1h" }, now);
    expect(r).toEqual({ from: "2026-01-10T11:35:00Z", to: "2026-01-10T12:35:00Z", bucket: "1m" });
  });
  it("keeps an absolute range as given", () => {
    const r = resolveRange(
      { kind: "absolute", from: "2026-01-01T00:00:00.000Z", to: "2026-01-08T00:00:00.000Z" },
      0,
    );
    expect(r).toEqual({ from: "2026-01-01T00:00:00Z", to: "2026-01-08T00:00:00Z", bucket: "1h" });
  });
});

describe("URL round trip", () => {
  it("reads what it writes, for both kinds", () => {
    const rel = withRange(new URLSearchParams("f=a:eq:b"), { kind: "relative", last: "7d" });
    expect(parseRange(rel)).toEqual({ kind: "relative", last: "7d" });
    expect(rel.get("f")).toBe("a:eq:b");
    const abs = withRange(rel, { kind: "absolute", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" });
    expect(abs.get("range")).toBeNull();
    expect(parseRange(abs)).toEqual({ kind: "absolute", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" });
  });
  it("falls back to the last 24 hours on nonsense", () => {
    expect(parseRange(new URLSearchParams("range=forever"))).toEqual({ kind: "relative", last: "24h" });
    expect(parseRange(new URLSearchParams("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"))).toEqual({
      kind: "relative",
      last: "24h",
    });
  });
});

describe("previousRange", () => {
  it("is the period of the same length just before", () => {
    const p = previousRange({ from: "2026-01-08T00:00:00Z", to: "2026-01-15T00:00:00Z", bucket: "1h" });
    expect(p).toEqual({ from: "2026-01-01T00:00:00Z", to: "2026-01-08T00:00:00Z", bucket: "1h" });
  });
});
