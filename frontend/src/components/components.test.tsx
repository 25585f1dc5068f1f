import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { Card } from "./Card";
import { TopList } from "./TopList";

afterEach(cleanup);

describe("Card", () => {
  it("says what went wrong, with the API's message and a retry", () => {
    const retry = vi.fn();
    render(
      <Card title="Cost" error={new ApiError(400, "invalid_request", "filters[0].field: unknown field 'x'")} retry={retry}>
        <p>never shown</p>
      </Card>,
    );
    expect(screen.getByRole("alert").textContent).toContain("unknown field 'x'");
    expect(screen.queryByText("never shown")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(retry).toHaveBeenCalledOnce();
  });
  it("tells what to do when there is no data", () => {
    render(<Card title="Cost" empty />);
    expect(screen.getByText(/Pick a longer range/)).toBeTruthy();
  });
});

describe("TopList", () => {
  it("draws bars in proportion and reports the clicked key", () => {
    const select = vi.fn();
    render(
      <TopList
        label="Top"
        items={[
          { key: "gpt-4o", value: 10 },
          { key: null, value: 5 },
        ]}
        format={(v) => `$${v}`}
        onSelect={select}
      />,
    );
    const bars = document.querySelectorAll<HTMLElement>(".toplist-bar");
    expect([...bars].map((b) => b.style.width)).toEqual(["100%", "50%"]);
    fireEvent.click(screen.getByRole("button", { name: "(none)" }));
    expect(select).toHaveBeenCalledWith(null);
    expect(screen.getByText("$10")).toBeTruthy();
  });
});
