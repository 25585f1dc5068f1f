import { describe, expect, it } from "vitest";
import {
  FIELDS,
  OPS_BY_KIND,
  addFilter,
  describeFilter,
  fieldKind,
  fieldProblem,
  filterProblem,
  filtersFromParams,
  formatFilter,
  opsFor,
  parseFilter,
  removeFilterAt,
  toTypedFilter,
  toTypedFilters,
  withFilters,
} from "./filters";

describe("the field catalogue", () => {
  it("has every named field of docs/api/query.md once, with its kind", () => {
    const names = FIELDS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toHaveLength(32);
    expect(fieldKind("timestamp")).toBe("timestamp");
    expect(fieldKind("parent_event_id")).toBe("uuid");
    expect(fieldKind("severity")).toBe("severity");
    expect(fieldKind("model_id")).toBe("string");
    expect(fieldKind("reasoning_tokens")).toBe("integer");
    expect(fieldKind("cost_usd")).toBe("number");
    expect(fieldKind("tenant_id")).toBeNull();
  });
  it("knows tags.<key> and payload.<path> as the hub checks them", () => {
    expect(fieldKind("tags.team")).toBe("tag");
    expect(fieldKind("tags.k8s.io/app")).toBe("tag");
    expect(fieldKind("payload.findings.0.status")).toBe("payload");
    expect(fieldKind("payload.")).toBeNull();
    expect(fieldKind("payload.a b")).toBeNull();
    expect(fieldKind("payload." + Array(17).fill("a").join("."))).toBeNull();
    expect(fieldKind("tags.")).toBeNull();
    expect(fieldKind("tags.bad key")).toBeNull();
  });
  it("offers only the operators of the field's kind", () => {
    expect(opsFor("uuid")).toEqual(["eq", "ne", "in", "not_in"]);
    expect(opsFor("string")).toEqual(["eq", "ne", "in", "not_in", "contains", "starts_with"]);
    expect(opsFor("number")).not.toContain("contains");
    expect(opsFor("severity")).toContain("gte");
    expect(opsFor("tag")).toEqual(OPS_BY_KIND.string);
    expect(opsFor("payload")).toHaveLength(10);
    expect(opsFor(null)).toHaveLength(10);
  });
  it("says what is wrong with a field name", () => {
    expect(fieldProblem("model_id")).toBeNull();
    expect(fieldProblem("modelid")).toMatch(/Unknown field "modelid"/);
    expect(fieldProblem("tags.")).toMatch(/tag key/);
    expect(fieldProblem("tags.a:b")).toMatch(/cannot carry/);
    expect(fieldProblem("payload.a..b")).toMatch(/payload path/i);
  });
});

describe("filters in the URL", () => {
  it("splits at the first two colons only, like the hub", () => {
    expect(parseFilter("model_id:eq:gpt-4o")).toEqual({ field: "model_id", op: "eq", value: "gpt-4o" });
    expect(parseFilter("timestamp:gte:2025-01-31T12:00:00Z")).toEqual({
      field: "timestamp",
      op: "gte",
      value: "2025-01-31T12:00:00Z",
    });
    expect(parseFilter("asset_id:eq:")).toEqual({ field: "asset_id", op: "eq", value: "" });
    expect(parseFilter("model_id")).toBeNull();
    expect(parseFilter("model_id:eq")).toBeNull();
    expect(parseFilter(":eq:x")).toBeNull();
    expect(parseFilter("model_id::x")).toBeNull();
  });
  it("formats back to the same text", () => {
    for (const t of ["model_id:eq:gpt-4o", "status:in:ok,error", "tags.team:starts_with:se:arch"]) {
      const parsed = parseFilter(t);
      expect(parsed && formatFilter(parsed)).toBe(t);
    }
  });
  it("reads and writes repeated f= parameters, keeping the rest", () => {
    const params = new URLSearchParams("range=24h&f=model_id:eq:gpt-4o&f=&f=status:eq:error&event=x");
    expect(filtersFromParams(params)).toEqual(["model_id:eq:gpt-4o", "status:eq:error"]);
    const next = withFilters(params, ["severity:gte:warning"]);
    expect(next.getAll("f")).toEqual(["severity:gte:warning"]);
    expect(next.get("range")).toBe("24h");
    expect(next.get("event")).toBe("x");
    expect(params.getAll("f")).toHaveLength(3); // the input is left alone
  });
  it("adds a filter once and removes one by position", () => {
    expect(addFilter(["a:eq:1"], "a:eq:1")).toEqual(["a:eq:1"]);
    expect(addFilter(["a:eq:1"], "b:eq:2")).toEqual(["a:eq:1", "b:eq:2"]);
    expect(removeFilterAt(["a:eq:1", "b:eq:2", "c:eq:3"], 1)).toEqual(["a:eq:1", "c:eq:3"]);
  });
  it("describes a filter for its chip", () => {
    expect(describeFilter("model_id:eq:gpt-4o")).toBe("model_id = gpt-4o");
    expect(describeFilter("status:not_in:ok,error")).toBe("status not in ok, error");
    expect(describeFilter("latency_ms:gte:2500")).toBe("latency_ms ≥ 2500");
    expect(describeFilter("asset_id:eq:")).toBe('asset_id = ""');
    expect(describeFilter("garbage")).toBe("garbage");
  });
});

describe("typed filters for the live feed", () => {
  it("keeps text fields as text", () => {
    expect(toTypedFilter("model_id:eq:gpt-4o")).toEqual({ field: "model_id", op: "eq", value: "gpt-4o" });
    expect(toTypedFilter("tags.team:eq:42")).toEqual({ field: "tags.team", op: "eq", value: "42" });
    expect(toTypedFilter("severity:gte:warning")).toEqual({ field: "severity", op: "gte", value: "warning" });
    expect(toTypedFilter("timestamp:lt:2025-01-31T12:00:00Z")).toEqual({
      field: "timestamp",
      op: "lt",
      value: "2025-01-31T12:00:00Z",
    });
  });
  it("makes numbers of numeric fields and of payload values that read as numbers", () => {
    expect(toTypedFilter("latency_ms:gt:2500")).toEqual({ field: "latency_ms", op: "gt", value: 2500 });
    expect(toTypedFilter("cost_usd:lte:0.01")).toEqual({ field: "cost_usd", op: "lte", value: 0.01 });
    expect(toTypedFilter("input_tokens:eq:1e3")).toEqual({ field: "input_tokens", op: "eq", value: 1000 });
    expect(toTypedFilter("payload.score:gt:0.8")).toEqual({ field: "payload.score", op: "gt", value: 0.8 });
    expect(toTypedFilter("payload.threat_type:eq:prompt_injection")).toEqual({
      field: "payload.threat_type",
      op: "eq",
      value: "prompt_injection",
    });
    // Not a number: left as text, for the hub to refuse with its own message.
    expect(toTypedFilter("latency_ms:gt:abc")).toEqual({ field: "latency_ms", op: "gt", value: "abc" });
  });
  it("makes arrays for in and not_in", () => {
    expect(toTypedFilter("model_id:in:gpt-4o,claude")).toEqual({ field: "model_id", op: "in", value: ["gpt-4o", "claude"] });
    expect(toTypedFilter("status:not_in:error")).toEqual({ field: "status", op: "not_in", value: ["error"] });
    expect(toTypedFilter("output_tokens:in:1,2,30")).toEqual({ field: "output_tokens", op: "in", value: [1, 2, 30] });
  });
  it("converts all or none", () => {
    expect(toTypedFilters([])).toEqual([]);
    expect(toTypedFilters(["model_id:eq:a", "latency_ms:gt:1"])).toEqual([
      { field: "model_id", op: "eq", value: "a" },
      { field: "latency_ms", op: "gt", value: 1 },
    ]);
    expect(toTypedFilters(["model_id:eq:a", "nonsense"])).toBeNull();
  });
});

describe("checking a filter before it is added", () => {
  const check = (field: string, op: string, value: string) => filterProblem({ field, op, value });
  it("accepts good filters", () => {
    expect(check("model_id", "eq", "gpt-4o")).toBeNull();
    expect(check("asset_id", "eq", "")).toBeNull();
    expect(check("status", "in", "ok,error")).toBeNull();
    expect(check("latency_ms", "gte", "2500.5")).toBeNull();
    expect(check("input_tokens", "lt", "100")).toBeNull();
    expect(check("severity", "gte", "warning")).toBeNull();
    expect(check("event_id", "eq", "0194a1b2-0000-7000-8000-000000000001")).toBeNull();
    expect(check("timestamp", "gte", "2025-01-31T12:00:00+01:00")).toBeNull();
    expect(check("tags.team", "contains", "sea")).toBeNull();
    expect(check("payload.score", "gt", "0.8")).toBeNull();
    expect(check("payload.flag", "eq", "true")).toBeNull();
  });
  it("names what to change", () => {
    expect(check("model_id", "gt", "a")).toMatch(/does not apply to model_id/);
    expect(check("latency_ms", "eq", "fast")).toMatch(/latency_ms takes a number/);
    expect(check("input_tokens", "eq", "1.5")).toMatch(/whole number/);
    expect(check("severity", "eq", "bad")).toMatch(/severity is one of/);
    expect(check("event_id", "eq", "123")).toMatch(/UUID/);
    expect(check("timestamp", "gte", "2025-01-31T12:00:00")).toMatch(/with a zone/);
    expect(check("status", "in", "")).toMatch(/one or more values/);
    expect(check("status", "in", "ok,,error")).toMatch(/empty value/);
    expect(check("payload.score", "gt", "high")).toMatch(/needs a number/);
    expect(check("latency_ms", "eq", "")).toMatch(/Enter a value/);
    expect(check("nope", "eq", "x")).toMatch(/Unknown field/);
    expect(check("model_id", "like", "x")).toMatch(/Unknown operator/);
  });
});
