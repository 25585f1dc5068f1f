// Relative ("last 24h") or absolute (two local date-times) range, plus auto-refresh.
import { useId, useState } from "react";
import { RELATIVE_CHOICES, type RangeSpec } from "../lib/time";
import { REFRESH_CHOICES, type RangeState } from "../state/useRange";

function toLocalInput(isoTime: string): string {
  const d = new Date(isoTime);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function TimeRangePicker({ state }: { state: RangeState }) {
  const id = useId();
  const { spec, range } = state;
  const [custom, setCustom] = useState(spec.kind === "absolute");
  const [from, setFrom] = useState(toLocalInput(range.from));
  const [to, setTo] = useState(toLocalInput(range.to));
  const [problem, setProblem] = useState<string | null>(null);

  const choose = (value: string) => {
    if (value === "custom") {
      setFrom(toLocalInput(range.from));
      setTo(toLocalInput(range.to));
      setCustom(true);
      return;
    }
    setCustom(false);
    state.setSpec({ kind: "relative", last: value });
  };

  const apply = () => {
    const f = new Date(from);
    const t = new Date(to);
    if (Number.isNaN(f.getTime()) || Number.isNaN(t.getTime())) {
      setProblem("Enter both dates.");
      return;
    }
    if (f >= t) {
      setProblem("The start must be before the end.");
      return;
    }
    setProblem(null);
    const next: RangeSpec = { kind: "absolute", from: f.toISOString(), to: t.toISOString() };
    state.setSpec(next);
  };

  return (
    <div className="range-picker" role="group" aria-label="Time range and refresh">
      <label htmlFor={`${id}-range`} className="sr-only">
        Time range
      </label>
      <select
        id={`${id}-range`}
        value={custom ? "custom" : spec.kind === "relative" ? spec.last : "custom"}
        onChange={(e) => choose(e.target.value)}
      >
        {RELATIVE_CHOICES.map((c) => (
          <option key={c} value={c}>
            Last {c}
          </option>
        ))}
        <option value="custom">Custom range…</option>
      </select>
      {custom && (
        <>
          <label>
            <span className="sr-only">From</span>
            <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
          </label>
          <span aria-hidden="true">–</span>
          <label>
            <span className="sr-only">To</span>
            <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
          </label>
          <button type="button" onClick={apply}>
            Apply
          </button>
          {problem && (
            <span role="alert" className="inline-error">
              {problem}
            </span>
          )}
        </>
      )}
      <label htmlFor={`${id}-refresh`} className="sr-only">
        Auto-refresh
      </label>
      <select
        id={`${id}-refresh`}
        value={state.refreshSeconds}
        onChange={(e) => state.setRefresh(Number(e.target.value))}
        title="Auto-refresh"
      >
        {REFRESH_CHOICES.map((s) => (
          <option key={s} value={s}>
            {s === 0 ? "No auto-refresh" : s < 60 ? `Every ${s} s` : `Every ${s / 60} min`}
          </option>
        ))}
      </select>
      <button type="button" onClick={state.refreshNow} aria-label="Refresh now" title="Refresh now">
        ↻
      </button>
    </div>
  );
}
