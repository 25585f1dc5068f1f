// The time range and auto-refresh of the current view, kept in the URL so that a view
// can be shared by copying its address.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { parseRange, resolveRange, withRange, type RangeSpec, type ResolvedRange } from "../lib/time";

export const REFRESH_CHOICES = [0, 10, 30, 60, 300] as const;

export interface RangeState {
  spec: RangeSpec;
  range: ResolvedRange;
  refreshSeconds: number;
  setSpec: (spec: RangeSpec) => void;
  setRefresh: (seconds: number) => void;
  refreshNow: () => void;
}

export function useRange(): RangeState {
  const [params, setParams] = useSearchParams();
  const spec = parseRange(params);
  const refreshSeconds = Math.max(0, Number(params.get("refresh") ?? 0) || 0);
  const [tick, setTick] = useState(0);
  const client = useQueryClient();

  useEffect(() => {
    if (refreshSeconds <= 0 || spec.kind === "absolute") return;
    const id = window.setInterval(() => setTick((t) => t + 1), refreshSeconds * 1000);
    return () => window.clearInterval(id);
  }, [refreshSeconds, spec.kind]);

  const key = spec.kind === "relative" ? spec.last : `${spec.from}/${spec.to}`;
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the tick moves "now"
  const range = useMemo(() => resolveRange(spec, Date.now()), [key, tick]);

  return {
    spec,
    range,
    refreshSeconds,
    setSpec: (next) => setParams((p) => withRange(p, next)),
    setRefresh: (seconds) =>
      setParams((p) => {
        const next = new URLSearchParams(p);
        if (seconds > 0) next.set("refresh", String(seconds));
        else next.delete("refresh");
        return next;
      }),
    // A relative range moves "now"; an absolute one keeps its keys, so ask again anyway.
    refreshNow: () => {
      setTick((t) => t + 1);
      void client.invalidateQueries();
    },
  };
}
