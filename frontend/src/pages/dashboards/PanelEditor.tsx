// The panel editor (a dialog): title, kind, a simple form for the query (one metric, one
// dimension, filters as field:op:value lines) and the whole query as JSON; its place on
// the grid as numbers (the keyboard's way to arrange); and a preview that runs the query,
// showing the hub's message (it names the field) when the query is refused.
import { useId, useRef, useState } from "react";
import type { ResolvedRange } from "../../lib/time";
import { Dialog } from "./Dialog";
import { clampLayout } from "./layout";
import {
  AGGREGATE_FNS,
  applySimple,
  exceedsSimple,
  formatFilterLines,
  formatQueryJson,
  isSeriesKind,
  KIND_LABELS,
  PANEL_KINDS,
  parseFilterLines,
  parsePanelQuery,
  simpleOf,
  type AggregateFn,
  type Panel,
  type PanelKind,
  type PanelLayout,
  type PanelQuery,
  type SimpleQuery,
} from "./model";
import { PanelBody } from "./Panel";

const METRIC_FIELDS = [
  "latency_ms",
  "ttft_ms",
  "cost_usd",
  "input_tokens",
  "output_tokens",
  "cached_input_tokens",
  "reasoning_tokens",
  "total_tokens",
];
const DIMENSIONS = [
  "model_id",
  "provider",
  "asset_id",
  "status",
  "source_module",
  "event_type",
  "payload_subtype",
  "environment",
  "error_type",
  "operation",
  "cost_source",
  "severity",
  "user_id",
  "session_id",
];
const FN_LABELS: Record<AggregateFn, string> = {
  count: "count",
  count_distinct: "count distinct",
  sum: "sum",
  avg: "average",
  min: "minimum",
  max: "maximum",
  p50: "p50 (median)",
  p90: "p90",
  p95: "p95",
  p99: "p99",
};

interface Props {
  initial: Panel;
  isNew: boolean;
  range: ResolvedRange;
  onApply: (panel: Panel) => void;
  onCancel: () => void;
}

export function PanelEditor({ initial, isNew, range, onApply, onCancel }: Props) {
  const id = useId();
  const titleRef = useRef<HTMLInputElement>(null);
  const [title, setTitle] = useState(initial.title);
  const [kind, setKind] = useState<PanelKind>(initial.kind);
  const [query, setQueryState] = useState<PanelQuery>(initial.query);
  const [layout, setLayout] = useState<PanelLayout>(initial.layout);
  const [jsonText, setJsonText] = useState(formatQueryJson(initial.query));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [filtersText, setFiltersText] = useState(formatFilterLines(initial.query.filters));
  const [filtersError, setFiltersError] = useState<string | null>(null);
  const [preview, setPreview] = useState<Panel>(initial);

  const simple = simpleOf(query);
  const current = (): Panel => ({ ...initial, title: title.trim(), kind, query, layout: clampLayout(layout) });

  /** A new query from the form: the JSON follows. */
  const fromForm = (next: PanelQuery) => {
    setQueryState(next);
    setJsonText(formatQueryJson(next));
    setJsonError(null);
  };
  const setSimple = (patch: Partial<SimpleQuery>) => fromForm(applySimple(query, { ...simple, ...patch }));

  const onFilters = (text: string) => {
    setFiltersText(text);
    const parsed = parseFilterLines(text);
    if (!parsed.ok) {
      setFiltersError(parsed.error);
      return;
    }
    setFiltersError(null);
    const { filters: _old, ...rest } = query;
    fromForm(parsed.value.length ? { ...rest, filters: parsed.value } : rest);
  };

  const onJson = (text: string) => {
    setJsonText(text);
    const parsed = parsePanelQuery(text);
    if (!parsed.ok) {
      setJsonError(parsed.error);
      return;
    }
    setJsonError(null);
    setQueryState(parsed.value);
    setFiltersText(formatFilterLines(parsed.value.filters));
    setFiltersError(null);
  };

  const onLimit = (text: string) => {
    const n = Math.floor(Number(text));
    const next = { ...query };
    if (text.trim() === "" || !Number.isFinite(n) || n < 1) delete next.limit;
    else next.limit = n;
    fromForm(next);
  };

  const problems = [jsonError, filtersError, title.length > 200 ? "The title takes at most 200 characters." : null].filter(
    (p): p is string => p !== null,
  );
  const valid = problems.length === 0;
  const apply = () => {
    if (valid) onApply(current());
  };
  const layoutField = (key: keyof PanelLayout, label: string, min: number, max: number) => (
    <label className="dash-field dash-field-small">
      <span>{label}</span>
      <input
        type="number"
        min={min}
        max={max}
        step={1}
        value={Number.isFinite(layout[key]) ? layout[key] : ""}
        onChange={(e) => setLayout((l) => ({ ...l, [key]: e.target.value === "" ? NaN : Number(e.target.value) }))}
      />
    </label>
  );

  return (
    <Dialog
      title={isNew ? "Add a panel" : `Edit panel: ${initial.title || "Untitled"}`}
      onClose={onCancel}
      initialFocus={titleRef}
      testId="panel-editor"
      className="dash-dialog-wide"
      footer={
        <>
          {!valid && (
            <span className="inline-error" role="alert">
              Fix the problems above first.
            </span>
          )}
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="primary" onClick={apply} disabled={!valid} data-testid="panel-editor-apply">
            {isNew ? "Add panel" : "Apply"}
          </button>
        </>
      }
    >
      <form
        className="dash-editor"
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
      >
        <div className="dash-editor-form">
          <div className="dash-row">
            <label className="dash-field dash-grow">
              <span>Title</span>
              <input ref={titleRef} value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} />
            </label>
            <label className="dash-field">
              <span>Kind</span>
              <select value={kind} onChange={(e) => setKind(e.target.value as PanelKind)}>
                {PANEL_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {KIND_LABELS[k]}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <p className="dash-hint">
            {isSeriesKind(kind)
              ? "Drawn over time: the dashboard's time bucket is added to group by, unless the query has its own."
              : kind === "number"
                ? "Shows the first aggregate of the first row; leave group by empty for a total."
                : "Shows the rows as the query returns them; order and limit them below or in the JSON."}
          </p>

          <fieldset className="dash-fieldset" disabled={jsonError !== null}>
            <legend>Query</legend>
            {jsonError !== null && <p className="dash-hint">Fix the JSON below to use this form again.</p>}
            {exceedsSimple(query) && (
              <p className="dash-hint">
                This query has more aggregates or group-by fields than this form shows; the form edits
                the first ones and keeps the rest (see the JSON).
              </p>
            )}
            <div className="dash-row">
              <label className="dash-field">
                <span>Metric</span>
                <select value={simple.fn} onChange={(e) => setSimple({ fn: e.target.value as AggregateFn })}>
                  {AGGREGATE_FNS.map((fn) => (
                    <option key={fn} value={fn}>
                      {FN_LABELS[fn]}
                    </option>
                  ))}
                </select>
              </label>
              <label className="dash-field dash-grow">
                <span>of field{simple.fn === "count" ? " (empty: events)" : ""}</span>
                <input
                  list={`${id}-fields`}
                  value={simple.field}
                  placeholder={simple.fn === "count" ? "events" : "latency_ms"}
                  onChange={(e) => setSimple({ field: e.target.value })}
                />
              </label>
              <label className="dash-field dash-grow">
                <span>Group by (empty: none)</span>
                <input
                  list={`${id}-dims`}
                  value={simple.dimension}
                  placeholder="model_id"
                  onChange={(e) => setSimple({ dimension: e.target.value })}
                />
              </label>
            </div>
            <datalist id={`${id}-fields`}>
              {[...METRIC_FIELDS, ...DIMENSIONS].map((f) => (
                <option key={f} value={f} />
              ))}
            </datalist>
            <datalist id={`${id}-dims`}>
              {DIMENSIONS.map((f) => (
                <option key={f} value={f} />
              ))}
            </datalist>
            <label className="dash-field">
              <span>Filters, one per line as field:op:value</span>
              <textarea
                rows={3}
                value={filtersText}
                spellCheck={false}
                aria-describedby={`${id}-filters-help`}
                aria-invalid={filtersError !== null}
                onChange={(e) => onFilters(e.target.value)}
              />
            </label>
            <p id={`${id}-filters-help`} className="dash-hint">
              For example <code>status:eq:error</code>, <code>model_id:in:gpt-4o,claude-sonnet-4</code>,{" "}
              <code>latency_ms:gt:1000</code>. An empty value matches events without the field.
            </p>
            {filtersError && (
              <p className="inline-error" role="alert">
                {filtersError}
              </p>
            )}
            <label className="dash-field dash-field-small">
              <span>Limit (rows per page)</span>
              <input type="number" min={1} step={1} value={query.limit ?? ""} placeholder="100" onChange={(e) => onLimit(e.target.value)} />
            </label>
          </fieldset>

          <details className="dash-advanced">
            <summary>Advanced: the query as JSON</summary>
            <label className="dash-field">
              <span>
                Query (filters, group_by, aggregates, order_by, limit; no time_range: the dashboard's applies)
              </span>
              <textarea
                className="dash-json"
                rows={12}
                value={jsonText}
                spellCheck={false}
                aria-invalid={jsonError !== null}
                aria-describedby={jsonError ? `${id}-json-error` : undefined}
                onChange={(e) => onJson(e.target.value)}
              />
            </label>
            {jsonError && (
              <p id={`${id}-json-error`} className="inline-error" role="alert">
                {jsonError}
              </p>
            )}
          </details>

          <fieldset className="dash-fieldset">
            <legend>Place on the grid (12 columns)</legend>
            <div className="dash-row">
              {layoutField("x", "Column (0–11)", 0, 11)}
              {layoutField("y", "Row", 0, 999)}
              {layoutField("w", "Width (1–12)", 1, 12)}
              {layoutField("h", "Height (rows)", 1, 100)}
            </div>
          </fieldset>
        </div>

        <section className="dash-editor-preview" aria-label="Preview">
          <div className="dash-row dash-row-between">
            <h3>Preview</h3>
            <button type="button" onClick={() => setPreview(current())} disabled={!valid}>
              Run query
            </button>
          </div>
          <p className="dash-hint">Over the dashboard's time range. Run the query to see your changes.</p>
          <div className="dash-preview-body">
            <PanelBody panel={preview} range={range} height={240} />
          </div>
        </section>
      </form>
    </Dialog>
  );
}
