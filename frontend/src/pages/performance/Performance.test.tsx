import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TypedQuery } from "../../api/types";
import Performance from "../Performance";
import { axeViolations, explorerFilters, fakeHub, groups, hasFilter, showPage, where } from "../shared/testing";

const FROM = "2025-01-01T00:00:00Z";
const TO = "2025-01-02T00:00:00Z";
const B1 = "2025-01-01T10:00:00Z";

function answer(q: TypedQuery) {
  const g = groups(q).join(",");
  if (hasFilter(q, "status", "error")) {
    return [
      { error_type: "rate_limit", errors: 9 },
      { error_type: "timeout", errors: 3 },
    ];
  }
  if (g === "") return [{ p50: 800, p95: 2400, p99: 5100, ttft: 420, requests: 1200 }];
  if (g === "model_id") {
    return [
      { model_id: "gpt-4o", requests: 1000, p95: 2000 },
      { model_id: "gemini-1.5-flash", requests: 200, p95: 3000 },
    ];
  }
  if (g === "bucket") return [{ bucket: B1, p50: 700, p95: 2300, p99: 5000 }];
  if (g === "bucket,model_id") {
    return [
      { bucket: B1, model_id: "gpt-4o", p95: 2100, ttft: 400, requests: 100 },
      { bucket: B1, model_id: "embed", p95: 90, ttft: null, requests: 50 },
    ];
  }
  if (g === "asset_id") {
    return [
      { asset_id: "code-assistant", p95: 9000, requests: 10 },
      { asset_id: "support-bot", p95: 3000, requests: 30 },
    ];
  }
  return [];
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("Performance page", () => {
  it("shows percentiles, errors by type and the slowest applications", async () => {
    const seen = fakeHub(answer);
    showPage("/performance", `?from=${FROM}&to=${TO}`, <Performance />);
    expect(screen.getByRole("heading", { level: 1, name: "Performance" })).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId("stat-p95 latency").textContent).toContain("2.40 s"));
    expect(screen.getByTestId("stat-Error rate").textContent).toContain("1.0 %");
    expect(screen.getByTestId("stat-Avg time to first token").textContent).toContain("420 ms");

    const errors = await screen.findByRole("table", { name: "Errors by type" });
    fireEvent.click(within(errors).getByRole("button", { name: "timeout" }));
    expect(where.path).toBe("/explorer");
    expect(explorerFilters()).toEqual(["payload_subtype:eq:llm_call", "status:eq:error", "error_type:eq:timeout"]);

    // Only the error breakdown reads raw events; the rest are rollup-shaped queries.
    const raw = seen.filter((q) => groups(q).some((k) => !["bucket", "model_id", "asset_id"].includes(k)));
    expect(raw.map((q) => groups(q))).toEqual([["error_type"]]);
  });

  it("narrows the percentiles to the chosen model", async () => {
    const seen = fakeHub(answer);
    showPage("/performance", `?from=${FROM}&to=${TO}`, <Performance />);
    const select = screen.getByLabelText("Model");
    await screen.findByRole("option", { name: "gemini-1.5-flash" });
    fireEvent.change(select, { target: { value: "gemini-1.5-flash" } });
    await waitFor(() =>
      expect(seen.some((q) => groups(q).join() === "bucket" && hasFilter(q, "model_id", "gemini-1.5-flash"))).toBe(true),
    );
    expect(new URLSearchParams(where.search).get("model")).toBe("gemini-1.5-flash");
    expect(await screen.findByText(/p50 · p95 · p99 of gemini-1.5-flash/)).toBeTruthy();
  });

  it("ranks the slowest applications and opens their calls", async () => {
    fakeHub(answer);
    showPage("/performance", `?from=${FROM}&to=${TO}`, <Performance />);
    const list = await screen.findByRole("table", { name: "Slowest applications by p95 latency" });
    await waitFor(() => expect(within(list).getAllByRole("row")).toHaveLength(2));
    expect(within(list).getAllByRole("row").map((r) => r.textContent)).toEqual([
      "code-assistant9.00 s",
      "support-bot3.00 s",
    ]);
    fireEvent.click(within(list).getByRole("button", { name: "code-assistant" }));
    expect(explorerFilters()).toEqual(["payload_subtype:eq:llm_call", "asset_id:eq:code-assistant"]);
  });

  it("has no axe violations", async () => {
    fakeHub(answer);
    const { container } = showPage("/performance", `?from=${FROM}&to=${TO}`, <Performance />);
    await screen.findByRole("table", { name: "Errors by type" });
    await screen.findByRole("option", { name: "gpt-4o" });
    expect(await axeViolations(container)).toEqual([]);
  });
});
