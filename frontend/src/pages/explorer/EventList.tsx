// The compact table of events, newest first. Each row is focusable and opens the event
// (click, Enter or Space); the arrow keys move between rows.
import type { KeyboardEvent } from "react";
import type { EventEnvelope } from "../../api/types";
import { formatCost, formatMs } from "../../lib/format";
import { costOf, latencyOf, modelOf, statusOf, typeLabel } from "./events";

const timeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  fractionalSecondDigits: 3,
});

export function formatEventTime(isoTime: string): string {
  const t = Date.parse(isoTime);
  return Number.isNaN(t) ? isoTime : timeFormat.format(t);
}

interface Props {
  rows: EventEnvelope[];
  /** Ids of rows that arrived over the live feed (marked "new"). */
  liveIds: ReadonlySet<string>;
  onOpen: (id: string) => void;
  selectedId: string | null;
}

export function EventList({ rows, liveIds, onOpen, selectedId }: Props) {
  const keyDown = (e: KeyboardEvent<HTMLTableRowElement>, id: string) => {
    const row = e.currentTarget;
    let target: Element | null = null;
    switch (e.key) {
      case "Enter":
      case " ":
        e.preventDefault();
        onOpen(id);
        return;
      case "ArrowDown":
        target = row.nextElementSibling;
        break;
      case "ArrowUp":
        target = row.previousElementSibling;
        break;
      case "Home":
        target = row.parentElement?.firstElementChild ?? null;
        break;
      case "End":
        target = row.parentElement?.lastElementChild ?? null;
        break;
      default:
        return;
    }
    e.preventDefault();
    if (target instanceof HTMLElement) target.focus();
  };

  return (
    <div className="explorer-table-wrap">
      <table className="data explorer-table">
        <caption className="sr-only">
          Events, newest first. Select a row (Enter) to see the whole event; arrow keys move between rows.
        </caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event type</th>
            <th scope="col">Severity</th>
            <th scope="col">Asset</th>
            <th scope="col">Model</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Latency
            </th>
            <th scope="col" className="num">
              Cost
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => {
            const status = statusOf(e);
            const isLive = liveIds.has(e.event_id);
            return (
              <tr
                key={e.event_id}
                tabIndex={0}
                data-testid="explorer-row"
                data-event-id={e.event_id}
                className={`explorer-row${isLive ? " explorer-row-live" : ""}${selectedId === e.event_id ? " explorer-row-selected" : ""}`}
                onClick={() => onOpen(e.event_id)}
                onKeyDown={(k) => keyDown(k, e.event_id)}
              >
                <td className="explorer-time">
                  <time dateTime={e.timestamp} title={e.timestamp}>
                    {formatEventTime(e.timestamp)}
                  </time>
                  {isLive && <span className="explorer-new">new</span>}
                </td>
                <td>{typeLabel(e)}</td>
                <td>
                  <span className={`severity severity-${e.severity}`}>{e.severity}</span>
                </td>
                <td>{e.asset_id ?? "–"}</td>
                <td>{modelOf(e) ?? "–"}</td>
                <td>
                  {status ? (
                    <span className={`status status-${status === "ok" ? "ok" : status === "error" ? "error" : "other"}`}>
                      {status}
                    </span>
                  ) : (
                    "–"
                  )}
                </td>
                <td className="num">{formatMs(latencyOf(e))}</td>
                <td className="num">{formatCost(costOf(e))}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
