import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TypedQuery } from "../../api/types";
import Security from "../Security";
import { axeViolations, explorerFilters, fakeHub, groups, hasFilter, showPage, where } from "../shared/testing";

const FROM = "2025-01-01T00:00:00Z";
const TO = "2025-01-02T00:00:00Z";
const B1 = "2025-01-01T10:00:00Z";

function answer(q: TypedQuery) {
  const g = groups(q).join(",");
  if (hasFilter(q, "payload_subtype", "threat")) {
    if (g === "payload.threat_type,payload.threat_level,payload.mitigation_status") {
      return [
        { "payload.threat_type": "prompt_injection", "payload.threat_level": "low", "payload.mitigation_status": "blocked", n: 6 },
        { "payload.threat_type": "prompt_injection", "payload.threat_level": "critical", "payload.mitigation_status": "detected", n: 1 },
        { "payload.threat_type": "data_exfiltration", "payload.threat_level": "high", "payload.mitigation_status": "mitigated", n: 3 },
      ];
    }
    if (g === "bucket,payload.threat_type") return [{ bucket: B1, "payload.threat_type": "prompt_injection", n: 7 }];
    if (g === "bucket,payload.mitigation_status") {
      return [
        { bucket: B1, "payload.mitigation_status": "blocked", n: 6 },
        { bucket: B1, "payload.mitigation_status": "detected", n: 4 },
      ];
    }
  }
  if (hasFilter(q, "tags.decision")) return [{ "tags.decision": "policy_deny", n: 5 }];
  if (hasFilter(q, "payload_subtype", "policy_violation")) {
    if (g.startsWith("bucket")) return [{ bucket: B1, "payload.policy_name": "PII in prompt", n: 5 }];
    return [
      { "payload.policy_id": "pol-pii-001", "payload.policy_name": "PII in prompt", "payload.auto_remediated": "true", n: 2 },
      { "payload.policy_id": "pol-pii-001", "payload.policy_name": "PII in prompt", "payload.auto_remediated": "false", n: 3 },
    ];
  }
  if (hasFilter(q, "payload_subtype", "compliance_check")) {
    return [
      { "payload.framework": "SOC2", "payload.passed": "true", n: 3, score: 1 },
      { "payload.framework": "SOC2", "payload.passed": "false", n: 1, score: 0.5 },
      { "payload.framework": "GDPR", "payload.passed": "true", n: 2, score: 1 },
    ];
  }
  return { status: 400, code: "invalid_request", message: `unexpected query ${JSON.stringify(q)}` };
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("Security & compliance page", () => {
  it("counts threats, blocked ones and severe ones", async () => {
    const seen = fakeHub(answer);
    showPage("/security", `?from=${FROM}&to=${TO}`, <Security />);
    expect(screen.getByRole("heading", { level: 1, name: "Security & compliance" })).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId("stat-Threats").textContent).toContain("10"));
    expect(screen.getByTestId("stat-Blocked").textContent).toContain("60.0 % of threats");
    expect(screen.getByTestId("stat-Critical or high").textContent).toContain("4");
    expect(screen.getByTestId("stat-Failed compliance checks").textContent).toContain("of 6 checks");

    // Threat queries use the documented fields, and the heat map gets its own bucket.
    for (const q of seen.filter((x) => hasFilter(x, "payload_subtype", "threat"))) {
      expect(hasFilter(q, "payload_type", "security")).toBe(true);
    }
    expect(seen.some((q) => (q.group_by ?? []).some((k) => typeof k !== "string" && k.bucket === "15m"))).toBe(true);

    const severity = await screen.findByRole("table", { name: "Threats by severity" });
    expect(within(severity).getAllByRole("row").map((r) => r.textContent)).toEqual(["critical1", "high3", "low6"]);
    fireEvent.click(within(severity).getByRole("button", { name: "high" }));
    expect(where.path).toBe("/explorer");
    expect(explorerFilters()).toEqual([
      "payload_type:eq:security",
      "payload_subtype:eq:threat",
      "payload.threat_level:eq:high",
    ]);
  });

  it("links a framework's failed checks", async () => {
    fakeHub(answer);
    showPage("/security", `?from=${FROM}&to=${TO}`, <Security />);
    const table = await screen.findByRole("table", { name: /Compliance checks by framework/ });
    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(3));
    expect(within(table).getAllByRole("row")[1]?.textContent).toContain("1 failed");
    expect(within(table).getAllByRole("row")[2]?.textContent).toContain("none failed");
    fireEvent.click(within(table).getByRole("button", { name: /1 failed SOC2 checks/ }));
    expect(explorerFilters()).toEqual([
      "payload_type:eq:governance",
      "payload_subtype:eq:compliance_check",
      "payload.framework:eq:SOC2",
      "payload.passed:eq:false",
    ]);
  });

  it("lists violations by policy with the auto-remediated share", async () => {
    fakeHub(answer);
    showPage("/security", `?from=${FROM}&to=${TO}`, <Security />);
    const table = await screen.findByRole("table", { name: /Policy violations by policy/ });
    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(2));
    expect(within(table).getAllByRole("row")[1]?.textContent).toBe("PII in promptpol-pii-00152 (40.0 %)");
    fireEvent.click(within(table).getByRole("button", { name: "PII in prompt" }));
    expect(explorerFilters()).toContain("payload.policy_id:eq:pol-pii-001");
  });

  it("has no axe violations", async () => {
    fakeHub(answer);
    const { container } = showPage("/security", `?from=${FROM}&to=${TO}`, <Security />);
    await screen.findByRole("table", { name: /Compliance checks by framework/ });
    await screen.findByRole("img", { name: /Threats by type per/ });
    expect(await axeViolations(container)).toEqual([]);
  });
});
