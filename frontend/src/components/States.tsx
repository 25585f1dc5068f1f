// What a panel shows while loading, on an error, and when there is nothing to draw:
// always a sentence that says what is going on and what to do.
import type { ReactNode } from "react";
import { ApiError } from "../api/client";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      {label}
    </div>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const message =
    error instanceof ApiError
      ? error.status === 0
        ? error.message
        : `${error.message} (${error.status} ${error.code})`
      : error instanceof Error
        ? error.message
        : String(error);
  return (
    <div className="state state-error" role="alert">
      <strong>Could not load this.</strong> <span>{message}</span>
      {retry && (
        <button type="button" className="link-button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children?: ReactNode }) {
  return (
    <div className="state state-empty">
      {children ?? (
        <>
          No data in this time range. Pick a longer range, or send events (the README shows
          how; <code>make run</code> starts a demo generator).
        </>
      )}
    </div>
  );
}
