import { useEffect, useRef, useState } from "react";
import type { Filter } from "../api/types";
import { useSession } from "../state/session";
import { openLive, type LiveHandlers, type LiveStatus } from "./stream";

/**
 * Keeps a live feed open while the component is mounted and ``enabled``. The handlers
 * may change between renders without reconnecting; the filters reconnect when changed.
 */
export function useLive(
  enabled: boolean,
  filters: Filter[],
  handlers: LiveHandlers,
  want: { events: boolean; metrics: boolean } = { events: true, metrics: false },
): { status: LiveStatus; detail: string | null } {
  const key = useSession((s) => s.apiKey);
  const ref = useRef(handlers);
  ref.current = handlers;
  const [status, setStatus] = useState<LiveStatus>("offline");
  const [detail, setDetail] = useState<string | null>(null);
  const filterKey = JSON.stringify(filters);

  useEffect(() => {
    if (!enabled || !key) {
      setStatus("offline");
      return;
    }
    return openLive(
      { key, filters: JSON.parse(filterKey) as Filter[], events: want.events, metrics: want.metrics },
      {
        onEvents: (e) => ref.current.onEvents?.(e),
        onMetrics: (m) => ref.current.onMetrics?.(m),
        onDropped: (n) => ref.current.onDropped?.(n),
        onStatus: (s, d) => {
          setStatus(s);
          setDetail(d ?? null);
          ref.current.onStatus?.(s, d);
        },
      },
    );
  }, [enabled, key, filterKey, want.events, want.metrics]);

  return { status, detail };
}

export function LiveBadge({ status, detail }: { status: LiveStatus; detail: string | null }) {
  const text = status === "live" ? "Live" : status === "connecting" ? "Connecting…" : `Offline${detail ? `: ${detail}` : ""}`;
  return (
    <span className="live-badge" role="status" aria-live="polite" data-status={status}>
      <span className={`live-dot ${status === "live" ? "on" : ""}`} aria-hidden="true" />
      {text}
    </span>
  );
}
