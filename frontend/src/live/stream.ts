// The live feed (GET /api/v1/stream, a WebSocket): new events and per-minute metrics.
// It reconnects by itself with backoff after a server restart or a network drop.
import type { EventEnvelope, Filter } from "../api/types";

export interface MinuteMetrics {
  minute: string;
  requests: number;
  errors: number;
  cost_usd: number;
  input_tokens?: number;
  output_tokens?: number;
  p95_latency_ms?: number | null;
  [key: string]: unknown;
}

export type LiveStatus = "connecting" | "live" | "offline";

export interface LiveHandlers {
  onEvents?: (events: EventEnvelope[]) => void;
  onMetrics?: (metrics: MinuteMetrics) => void;
  onDropped?: (count: number) => void;
  onStatus?: (status: LiveStatus, detail?: string) => void;
}

interface Options {
  key: string;
  filters: Filter[];
  metrics: boolean;
  events: boolean;
}

const MAX_BACKOFF_MS = 10_000;

export function streamUrl(location: Location = window.location): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/v1/stream`;
}

/** Opens the feed and keeps it open until the returned function is called. */
export function openLive(options: Options, handlers: LiveHandlers): () => void {
  let socket: WebSocket | null = null;
  let closed = false;
  let attempt = 0;
  let timer: number | undefined;

  const connect = () => {
    if (closed) return;
    handlers.onStatus?.("connecting");
    const ws = new WebSocket(streamUrl());
    socket = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "auth", key: options.key }));
      ws.send(
        JSON.stringify({
          type: "subscribe",
          filters: options.filters,
          events: options.events,
          metrics: options.metrics,
        }),
      );
    };
    ws.onmessage = (message) => {
      let data: { type?: string; [k: string]: unknown };
      try {
        data = JSON.parse(String(message.data));
      } catch {
        return;
      }
      switch (data.type) {
        case "ready":
        case "subscribed":
          attempt = 0;
          handlers.onStatus?.("live");
          break;
        case "events":
          handlers.onEvents?.((data.events as EventEnvelope[]) ?? []);
          break;
        case "metrics":
          handlers.onMetrics?.(data as unknown as MinuteMetrics);
          break;
        case "dropped":
          handlers.onDropped?.(Number(data.count) || 0);
          break;
        case "error":
          handlers.onStatus?.("offline", String(data.message ?? "live feed error"));
          break;
      }
    };
    ws.onclose = (event) => {
      socket = null;
      if (closed) return;
      // A refused key or filter will be refused again: stop and say why.
      if (event.code === 4401 || event.code === 4400 || event.code === 4403) {
        handlers.onStatus?.("offline", event.reason || "the live feed was refused");
        return;
      }
      handlers.onStatus?.("offline", "reconnecting…");
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
      attempt += 1;
      timer = window.setTimeout(connect, delay);
    };
  };

  connect();
  return () => {
    closed = true;
    if (timer !== undefined) window.clearTimeout(timer);
    socket?.close(1000, "done");
  };
}
