import { describe, expect, it } from "vitest";
import {
  blockedSplit,
  bySeverity,
  complianceTable,
  countBy,
  heatBucket,
  heatRows,
  policyTable,
  threatTotals,
} from "./shape";

const H = (h: number) => `2025-01-01T${String(h).padStart(2, "0")}:00:00Z`;
const threats = [
  { "payload.threat_type": "prompt_injection", "payload.threat_level": "low", "payload.mitigation_status": "blocked", n: 5 },
  { "payload.threat_type": "prompt_injection", "payload.threat_level": "high", "payload.mitigation_status": "detected", n: 2 },
  { "payload.threat_type": "data_exfiltration", "payload.threat_level": "critical", "payload.mitigation_status": "blocked", n: 1 },
  { "payload.threat_type": null, "payload.threat_level": "medium", "payload.mitigation_status": null, n: 1 },
];

describe("threats", () => {
  it("counts by one dimension, largest first", () => {
    expect(countBy(threats, "payload.threat_type")).toEqual([
      { key: "prompt_injection", value: 7 },
      { key: "data_exfiltration", value: 1 },
      { key: null, value: 1 },
    ]);
  });
  it("orders levels by severity, not by count", () => {
    const levels = bySeverity(countBy(threats, "payload.threat_level").concat({ key: "weird", value: 100 }));
    expect(levels.map((e) => e.key)).toEqual(["critical", "high", "medium", "low", "weird"]);
  });
  it("totals blocked and severe threats", () => {
    expect(threatTotals(threats)).toEqual({ total: 9, blocked: 6, severe: 3 });
  });
  it("splits blocked from the rest per bucket", () => {
    const rows = [
      { bucket: H(0), "payload.mitigation_status": "blocked", n: 2 },
      { bucket: H(0), "payload.mitigation_status": "detected", n: 1 },
      { bucket: H(0), "payload.mitigation_status": "mitigated", n: 1 },
      { bucket: "2025-01-01T02:00:00.000Z", "payload.mitigation_status": null, n: 4 },
    ];
    expect(blockedSplit(rows, [H(0), H(1), H(2)])).toEqual([
      { bucket: H(0), blocked: 2, not_blocked: 2 },
      { bucket: H(1), blocked: 0, not_blocked: 0 },
      { bucket: H(2), blocked: 0, not_blocked: 4 },
    ]);
  });
});

describe("heat map", () => {
  it("picks the finest bucket within the column budget", () => {
    expect(heatBucket(3_600_000, "1m")).toBe("1m");
    expect(heatBucket(24 * 3_600_000, "5m")).toBe("15m");
    expect(heatBucket(7 * 86_400_000, "1h")).toBe("1h");
    expect(heatBucket(30 * 86_400_000, "1d")).toBe("1d");
    expect(heatBucket(400 * 86_400_000, "1d")).toBe("1d");
  });
  it("fills every cell", () => {
    const rows = [
      { bucket: H(1), "payload.threat_type": "a", n: 3 },
      { bucket: H(0), "payload.threat_type": null, n: 1 },
    ];
    expect(heatRows(rows, [H(0), H(1)], "payload.threat_type")).toEqual([
      { bucket: H(0), "payload.threat_type": "a", n: 0 },
      { bucket: H(1), "payload.threat_type": "a", n: 3 },
      { bucket: H(0), "payload.threat_type": "(none)", n: 1 },
      { bucket: H(1), "payload.threat_type": "(none)", n: 0 },
    ]);
  });
});

describe("governance", () => {
  it("adds up violations per policy with the auto-remediated ones", () => {
    const rows = [
      { "payload.policy_id": "p1", "payload.policy_name": "PII", "payload.auto_remediated": "true", n: 2 },
      { "payload.policy_id": "p1", "payload.policy_name": "PII", "payload.auto_remediated": "false", n: 3 },
      { "payload.policy_id": "p2", "payload.policy_name": "Secrets", "payload.auto_remediated": true, n: 9 },
    ];
    expect(policyTable(rows)).toEqual([
      { policyId: "p2", policyName: "Secrets", violations: 9, autoRemediated: 9 },
      { policyId: "p1", policyName: "PII", violations: 5, autoRemediated: 2 },
    ]);
  });
  it("counts passed and failed checks per framework with a weighted score", () => {
    const rows = [
      { "payload.framework": "SOC2", "payload.passed": "true", n: 3, score: 1 },
      { "payload.framework": "SOC2", "payload.passed": "false", n: 1, score: 0.6 },
      { "payload.framework": "GDPR", "payload.passed": "true", n: 2, score: null },
      { "payload.framework": "GDPR", "payload.passed": null, n: 1, score: 0.5 },
    ];
    const out = complianceTable(rows);
    expect(out[0]).toMatchObject({ framework: "SOC2", checks: 4, passed: 3, failed: 1 });
    expect(out[0]!.score).toBeCloseTo(0.9);
    expect(out[1]).toEqual({ framework: "GDPR", checks: 3, passed: 2, failed: 0, score: 0.5 });
  });
});
