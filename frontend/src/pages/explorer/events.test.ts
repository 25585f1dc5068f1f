import { describe, expect, it } from "vitest";
import type { EventEnvelope } from "../../api/types";
import {
  combineRows,
  costOf,
  inRange,
  latencyOf,
  mergeLive,
  modelOf,
  payloadSubtype,
  statusOf,
  typeLabel,
} from "./events";

function ev(id: string, timestamp: string, extra: Partial<EventEnvelope> = {}): EventEnvelope {
  return { event_id: id, timestamp, source_module: "m", event_type: "telemetry", severity: "info", ...extra };
}

const call = ev("a", "2026-01-01T10:00:00.500Z", {
  asset_id: "chat",
  payload: {
    payload_type: "telemetry",
    data: { telemetry_type: "llm_call", model_id: "gpt-4o", status: "error", latency_ms: 1200.5, cost_usd: 0.5 },
  },
  hub: { cost_usd: 0.25, cost_source: "computed" },
});

describe("reading an envelope", () => {
  it("finds the type, subtype and the model-call columns", () => {
    expect(typeLabel(call)).toBe("telemetry / llm_call");
    expect(modelOf(call)).toBe("gpt-4o");
    expect(statusOf(call)).toBe("error");
    expect(latencyOf(call)).toBe(1200.5);
    expect(costOf(call)).toBe(0.25); // what the hub stored wins
  });
  it("reads other payloads and custom types", () => {
    const threat = ev("t", "2026-01-01T10:00:00Z", {
      event_type: "security",
      payload: { payload_type: "security", data: { security_type: "threat", threat_type: "prompt_injection" } },
    });
    expect(typeLabel(threat)).toBe("security / threat");
    expect(modelOf(threat)).toBeNull();
    expect(costOf(threat)).toBeNull();
    const custom = ev("c", "2026-01-01T10:00:00Z", {
      payload: { payload_type: "custom", data: { custom_type: "deploy" } },
    });
    expect(payloadSubtype(custom)).toBe("deploy");
    expect(typeLabel(ev("x", "2026-01-01T10:00:00Z"))).toBe("telemetry");
  });
});

describe("merging the live feed", () => {
  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s)).toISOString();
  it("puts new events on top, newest first, each once", () => {
    const live = [ev("b", t(5))];
    const { rows, trimmed } = mergeLive(live, [ev("c", t(6)), ev("d", t(8)), ev("b", t(5)), ev("d", t(8))]);
    expect(rows.map((e) => e.event_id)).toEqual(["d", "c", "b"]);
    expect(trimmed).toBe(0);
  });
  it("skips events the fetched pages already hold", () => {
    const { rows } = mergeLive([], [ev("a", t(1)), ev("z", t(2))], new Set(["a"]));
    expect(rows.map((e) => e.event_id)).toEqual(["z"]);
  });
  it("keeps at most the cap, dropping the oldest live rows", () => {
    const live = Array.from({ length: 5 }, (_, i) => ev(`old${i}`, t(10 - i)));
    const { rows, trimmed } = mergeLive(live, [ev("n1", t(20)), ev("n2", t(21))], new Set(), 6);
    expect(rows).toHaveLength(6);
    expect(rows[0]?.event_id).toBe("n2");
    expect(rows[5]?.event_id).toBe("old3");
    expect(trimmed).toBe(1);
  });
  it("returns the same rows when nothing is new", () => {
    const live = [ev("b", t(5))];
    expect(mergeLive(live, [ev("b", t(5))]).rows).toEqual(live);
  });
  it("lists live rows first, without those fetched since", () => {
    const rows = combineRows([ev("n", t(9)), ev("a", t(8))], [[ev("a", t(8)), ev("b", t(7))], [ev("c", t(1))]]);
    expect(rows.map((e) => e.event_id)).toEqual(["n", "a", "b", "c"]);
  });
  it("knows whether an event is in the range", () => {
    expect(inRange(ev("a", t(5)), t(0), null)).toBe(true);
    expect(inRange(ev("a", t(5)), t(6), null)).toBe(false);
    expect(inRange(ev("a", t(5)), t(0), t(5))).toBe(false);
    expect(inRange(ev("a", "not a time"), t(0), null)).toBe(false);
  });
});
