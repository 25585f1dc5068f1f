import { act, cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TypedQuery } from "../../api/types";
import Cost from "../Cost";
import { axeViolations, explorerFilters, fakeHub, groups, hasFilter, showPage, where } from "../shared/testing";

const FROM = "2025-01-01T00:00:00Z";
const TO = "2025-01-02T00:00:00Z";
const B1 = "2025-01-01T10:00:00Z";
const B2 = "2025-01-01T10:05:00Z";

function answer(q: TypedQuery) {
  const g = groups(q);
  const previous = q.time_range.from < FROM;
  if (hasFilter(q, "cost_source", "unpriced")) {
    return g.includes("model_id") ? [{ model_id: "my-llm", unpriced: 4 }] : [{ bucket: B1, unpriced: 4 }];
  }
  if (g.length === 1 && g[0] === "bucket") {
    return [
      { bucket: B1, cost: 3, requests: 1004 },
      { bucket: B2, cost: 1, requests: 500 },
    ];
  }
  const field = g.find((x) => x !== "bucket") as string;
  if (g.includes("bucket")) {
    return [
      { [field]: "gpt-4o", bucket: B1, cost: 2 },
      { [field]: "claude", bucket: B1, cost: 1 },
      { [field]: "gpt-4o", bucket: B2, cost: 1 },
      { [field]: "free-model", bucket: B2, cost: 0 },
    ];
  }
  return previous
    ? [
        { [field]: "gpt-4o", cost: 1 },
        { [field]: "claude", cost: 2 },
      ]
    : [
        { [field]: "gpt-4o", cost: 3 },
        { [field]: "claude", cost: 1 },
        { [field]: null, cost: 0.5 },
      ];
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("Cost page", () => {
  it("shows totals, spend, movers and unpriced calls from rollup queries", async () => {
    const seen = fakeHub(answer);
    showPage("/cost", `?from=${FROM}&to=${TO}`, <Cost />);
    expect(screen.getByRole("heading", { level: 1, name: "Cost" })).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId("stat-Spend").textContent).toContain("$4.00"));
    expect(screen.getByTestId("stat-Spend").textContent).toContain("+33 % vs previous period");
    // $4 over 1,504 calls of which 4 unpriced: $4 / 1,500 × 1,000
    expect(screen.getByTestId("stat-Cost per 1k calls").textContent).toContain("$2.67");
    expect(screen.getByTestId("stat-Unpriced calls").textContent).toContain("4");

    const movers = await screen.findByRole("table", { name: /^Spend by/ });
    const rows = within(movers).getAllByRole("row");
    expect(rows.map((r) => r.textContent)).toEqual([
      "ModelThis periodPrevious periodDifferenceChange",
      "gpt-4o$3.00$1.00+$2.00▲ +200 % (more spend)",
      "claude$1.00$2.00−$1.00▼ -50 % (less spend)",
      "(none)$0.50$0.00+$0.50▲ new (more spend)",
    ]);
    expect(screen.getByText(/have no price: spend is understated/)).toBeTruthy();

    // Every query of the page is one the rollups answer, over the URL's range.
    for (const q of seen) {
      expect(q.filters?.[0]).toEqual({ field: "payload_subtype", op: "eq", value: "llm_call" });
      expect(groups(q).every((g) => ["bucket", "model_id"].includes(g))).toBe(true);
    }
    expect(seen.some((q) => q.time_range.from === "2024-12-31T00:00:00Z" && q.time_range.to === FROM)).toBe(true);

    // A mover opens its events; "(none)" as "none of the others".
    fireEvent.click(within(movers).getByRole("button", { name: "gpt-4o" }));
    expect(where.path).toBe("/explorer");
    expect(explorerFilters()).toEqual(["payload_subtype:eq:llm_call", "model_id:eq:gpt-4o"]);
  });

  it("opens the unpriced calls of a model", async () => {
    fakeHub(answer);
    showPage("/cost", `?from=${FROM}&to=${TO}`, <Cost />);
    fireEvent.click(await screen.findByRole("button", { name: "my-llm" }));
    expect(explorerFilters()).toEqual([
      "payload_subtype:eq:llm_call",
      "cost_source:eq:unpriced",
      "model_id:eq:my-llm",
    ]);
  });

  it("links the (none) mover as none of the other values", async () => {
    fakeHub(answer);
    showPage("/cost", `?from=${FROM}&to=${TO}`, <Cost />);
    const movers = await screen.findByRole("table", { name: /^Spend by/ });
    fireEvent.click(within(movers).getByRole("button", { name: "(none)" }));
    expect(explorerFilters()).toEqual(["payload_subtype:eq:llm_call", "model_id:not_in:gpt-4o,claude"]);
  });

  it("groups by a tag key that can be changed, and refuses an invalid one", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const seen = fakeHub(answer);
      showPage("/cost", `?from=${FROM}&to=${TO}`, <Cost />);
      fireEvent.change(screen.getByLabelText("By"), { target: { value: "tag" } });
      await waitFor(() => expect(seen.some((q) => groups(q).includes("tags.team"))).toBe(true));
      expect(new URLSearchParams(where.search).get("by")).toBe("tag");

      const input = screen.getByLabelText("Tag key");
      fireEvent.change(input, { target: { value: "bad key" } });
      expect(screen.getByRole("alert").textContent).toContain("A tag key");
      expect(input.getAttribute("aria-invalid")).toBe("true");
      const before = seen.length;
      await act(async () => {
        vi.advanceTimersByTime(1000);
      });
      expect(seen.slice(before).some((q) => groups(q).some((g) => g.startsWith("tags.bad")))).toBe(false);

      fireEvent.change(input, { target: { value: "region" } });
      await act(async () => {
        vi.advanceTimersByTime(1000);
      });
      await waitFor(() => expect(seen.some((q) => groups(q).includes("tags.region"))).toBe(true));
      expect(new URLSearchParams(where.search).get("tag")).toBe("region");
      expect(await screen.findByRole("columnheader", { name: 'Tag "region"' })).toBeTruthy();
    } finally {
      vi.useRealTimers();
    }
  });

  it("shows the API's refusal in the card, with a retry", async () => {
    fakeHub((q) =>
      groups(q).length === 2 && hasFilter(q, "payload_subtype")
        ? { status: 400, code: "invalid_request", message: "group_by: unknown field 'x'" }
        : answer(q),
    );
    showPage("/cost", `?from=${FROM}&to=${TO}`, <Cost />);
    const card = await screen.findByRole("region", { name: "Spend over time" });
    await waitFor(() => expect(within(card).getByRole("alert").textContent).toContain("unknown field 'x'"));
    expect(within(card).getByRole("button", { name: "Try again" })).toBeTruthy();
  });

  it("has no axe violations", async () => {
    fakeHub(answer);
    const { container } = showPage("/cost", `?from=${FROM}&to=${TO}`, <Cost />);
    await screen.findByRole("table", { name: /^Spend by/ });
    expect(await axeViolations(container)).toEqual([]);
  });
});
