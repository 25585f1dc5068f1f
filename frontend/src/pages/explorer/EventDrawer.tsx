// The whole of one event (GET /api/v1/events/{id}) in a modal side panel: a short summary,
// the envelope as formatted JSON, and a button that copies it.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { api } from "../../api/client";
import type { EventEnvelope } from "../../api/types";
import { ErrorState, Loading } from "../../components/States";
import { formatCost, formatMs } from "../../lib/format";
import { formatEventTime } from "./EventList";
import { costOf, latencyOf, modelOf, statusOf, typeLabel } from "./events";

interface Props {
  id: string;
  /** The row of the list, shown while the event is fetched. */
  initial?: EventEnvelope;
  onClose: () => void;
  /** Adds a filter (e.g. the event's correlation id) and closes the panel. */
  onFilter: (filter: string) => void;
}

const FOCUSABLE = 'button:not([disabled]), [href], input, select, textarea, [tabindex]:not([tabindex="-1"])';

export function fetchEvent(id: string, signal?: AbortSignal): Promise<EventEnvelope> {
  return api<EventEnvelope>(`/api/v1/events/${encodeURIComponent(id)}`, { signal });
}

export function EventDrawer({ id, initial, onClose, onFilter }: Props) {
  const titleId = useId();
  const panel = useRef<HTMLDivElement>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  const pre = useRef<HTMLPreElement>(null);
  const [copyNote, setCopyNote] = useState("");
  const event = useQuery({
    queryKey: ["event", id],
    queryFn: ({ signal }) => fetchEvent(id, signal),
    placeholderData: initial,
  });

  // Focus moves into the panel when it opens; Esc closes it wherever the focus is.
  useEffect(() => {
    closeButton.current?.focus();
  }, [id]);
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        onClose();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [onClose]);

  // Tab and Shift+Tab cycle within the panel (it is modal).
  const trap = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== "Tab" || !panel.current) return;
    const items = [...panel.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  const data = event.data;
  const json = data ? JSON.stringify(data, null, 2) : "";

  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(json);
      setCopyNote("Copied the JSON to the clipboard.");
    } catch {
      // No clipboard API (e.g. plain http on another host): select the text instead.
      const node = pre.current;
      const selection = window.getSelection();
      if (node && selection) {
        const range = document.createRange();
        range.selectNodeContents(node);
        selection.removeAllRanges();
        selection.addRange(range);
      }
      let copied = false;
      try {
        copied = document.execCommand?.("copy") ?? false;
      } catch {
        copied = false;
      }
      setCopyNote(copied ? "Copied the JSON to the clipboard." : "Could not copy: the JSON is selected, press Ctrl+C (⌘C) to copy it.");
    }
  };

  const correlation = typeof data?.correlation_id === "string" ? data.correlation_id : null;
  const trace = typeof data?.trace_id === "string" ? data.trace_id : null;

  return (
    <div className="drawer-layer">
      <div className="drawer-backdrop" onClick={onClose} aria-hidden="true" />
      <div
        ref={panel}
        className="drawer"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid="event-drawer"
        onKeyDown={trap}
      >
        <div className="drawer-header">
          <h2 id={titleId} className="drawer-title">
            Event details
          </h2>
          <button type="button" ref={closeButton} onClick={onClose}>
            Close
          </button>
        </div>
        <p className="drawer-id">
          <span className="sr-only">Event id </span>
          <code>{id}</code>
        </p>
        {event.error ? (
          <ErrorState error={event.error} retry={() => void event.refetch()} />
        ) : !data ? (
          <Loading label="Loading the event…" />
        ) : (
          <>
            <dl className="drawer-summary">
              <dt>Time</dt>
              <dd>
                <time dateTime={data.timestamp}>{formatEventTime(data.timestamp)}</time>
              </dd>
              <dt>Type</dt>
              <dd>{typeLabel(data)}</dd>
              <dt>Severity</dt>
              <dd>{data.severity}</dd>
              <dt>Source</dt>
              <dd>{data.source_module}</dd>
              <dt>Asset</dt>
              <dd>{data.asset_id ?? "–"}</dd>
              <dt>Model</dt>
              <dd>{modelOf(data) ?? "–"}</dd>
              <dt>Status</dt>
              <dd>{statusOf(data) ?? "–"}</dd>
              <dt>Latency</dt>
              <dd>{formatMs(latencyOf(data))}</dd>
              <dt>Cost</dt>
              <dd>{formatCost(costOf(data))}</dd>
            </dl>
            <div className="drawer-actions">
              <button type="button" onClick={() => void copy()}>
                Copy JSON
              </button>
              {correlation && (
                <button type="button" onClick={() => onFilter(`correlation_id:eq:${correlation}`)}>
                  Events with this correlation id
                </button>
              )}
              {trace && (
                <button type="button" onClick={() => onFilter(`trace_id:eq:${trace}`)}>
                  Events of this trace
                </button>
              )}
              <span className="drawer-copy-note" role="status" aria-live="polite">
                {copyNote}
              </span>
            </div>
            <h3 className="drawer-subtitle">Full event (JSON)</h3>
            {event.isPlaceholderData && <p className="filter-hint">Fetching the stored event…</p>}
            <pre ref={pre} className="drawer-json" tabIndex={0} data-testid="event-json">
              {json}
            </pre>
          </>
        )}
      </div>
    </div>
  );
}
