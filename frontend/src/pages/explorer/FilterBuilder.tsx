// The filter builder (field, operator, value) and the chips of the active filters.
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { ErrorState } from "../../components/States";
import {
  FIELDS,
  OP_LABELS,
  PAYLOAD_PREFIX,
  SEVERITIES,
  TAG_PREFIX,
  describeFilter,
  fieldKind,
  filterProblem,
  formatFilter,
  isListOp,
  listValues,
  opsFor,
  type FieldKind,
  type Op,
} from "./filters";

const GROUPS = [...new Set(FIELDS.map((f) => f.group))];

const PLACEHOLDERS: Record<FieldKind, string> = {
  timestamp: "2025-01-31T12:00:00Z",
  uuid: "0194a1b2-0000-7000-8000-…",
  severity: "warning",
  string: "e.g. gpt-4o",
  integer: "e.g. 1000",
  number: "e.g. 2500",
  tag: "e.g. search",
  payload: "text, number, true or false",
};

interface Props {
  filters: string[];
  onAdd: (filter: string) => void;
  onRemove: (index: number) => void;
  onClear: () => void;
  /** The hub's answer to an invalid filter (a 400), shown next to the filters. */
  error?: unknown;
}

export function FilterBuilder({ filters, onAdd, onRemove, onClear, error }: Props) {
  const id = useId();
  const [choice, setChoice] = useState("model_id");
  const [custom, setCustom] = useState("");
  const [op, setOp] = useState<Op>("eq");
  const [value, setValue] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [announce, setAnnounce] = useState("");
  const fieldRef = useRef<HTMLSelectElement>(null);
  const chipsRef = useRef<HTMLUListElement>(null);
  const pendingFocus = useRef<number | "field" | null>(null);

  const prefixed = choice === TAG_PREFIX || choice === PAYLOAD_PREFIX;
  const field = prefixed ? choice + stripPrefix(custom.trim(), choice) : choice;
  const kind: FieldKind | null = prefixed ? (choice === TAG_PREFIX ? "tag" : "payload") : fieldKind(choice);
  const ops = opsFor(kind);
  const list = isListOp(op);

  // An operator that does not apply to the new field falls back to the first that does.
  useEffect(() => {
    if (!ops.includes(op)) setOp(ops[0] as Op);
  }, [ops, op]);

  // After a chip goes away, focus moves to the chip now in its place (or the builder).
  useEffect(() => {
    const target = pendingFocus.current;
    if (target === null) return;
    pendingFocus.current = null;
    const buttons = chipsRef.current?.querySelectorAll<HTMLButtonElement>("button") ?? [];
    if (target === "field" || buttons.length === 0) fieldRef.current?.focus();
    else buttons[Math.min(target, buttons.length - 1)]?.focus();
  }, [filters]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const draft = { field, op, value: list ? listValues(value).join(",") : value };
    const issue = filterProblem(draft);
    setProblem(issue);
    if (issue) return;
    const text = formatFilter(draft);
    onAdd(text);
    setAnnounce(`Added filter ${describeFilter(text)}.`);
    setValue("");
  };

  const remove = (index: number) => {
    const gone = filters[index];
    pendingFocus.current = index;
    onRemove(index);
    if (gone) setAnnounce(`Removed filter ${describeFilter(gone)}.`);
  };

  const clear = () => {
    pendingFocus.current = "field";
    onClear();
    setAnnounce("Removed all filters.");
  };

  const problemId = `${id}-problem`;
  const hintId = `${id}-hint`;
  const severityPick = kind === "severity" && !list;

  return (
    <section className="card explorer-filters" aria-labelledby={`${id}-title`}>
      <header className="card-header">
        <h2 className="card-title" id={`${id}-title`}>
          Filters
        </h2>
        {filters.length > 0 && (
          <button type="button" onClick={clear}>
            Clear all filters
          </button>
        )}
      </header>
      <form className="filter-form" role="search" aria-label="Add a filter" onSubmit={submit} noValidate>
        <div className="filter-control">
          <label htmlFor={`${id}-field`}>Field</label>
          <select
            id={`${id}-field`}
            ref={fieldRef}
            value={choice}
            onChange={(e) => {
              setChoice(e.target.value);
              setValue("");
              setProblem(null);
            }}
          >
            {GROUPS.map((group) => (
              <optgroup key={group} label={group}>
                {FIELDS.filter((f) => f.group === group).map((f) => (
                  <option key={f.name} value={f.name}>
                    {f.name}
                  </option>
                ))}
              </optgroup>
            ))}
            <optgroup label="Tags and payload">
              <option value={TAG_PREFIX}>tags.&lt;key&gt; (a tag)…</option>
              <option value={PAYLOAD_PREFIX}>payload.&lt;path&gt; (payload data)…</option>
            </optgroup>
          </select>
        </div>
        {prefixed && (
          <div className="filter-control">
            <label htmlFor={`${id}-custom`}>{choice === TAG_PREFIX ? "Tag key" : "Payload path"}</label>
            <div className="filter-prefixed">
              <span className="filter-prefix" aria-hidden="true">
                {choice}
              </span>
              <input
                id={`${id}-custom`}
                value={custom}
                onChange={(e) => setCustom(e.target.value)}
                placeholder={choice === TAG_PREFIX ? "team" : "threat_type"}
                autoComplete="off"
                spellCheck={false}
                aria-describedby={problem ? problemId : undefined}
              />
            </div>
          </div>
        )}
        <div className="filter-control">
          <label htmlFor={`${id}-op`}>Operator</label>
          <select id={`${id}-op`} value={op} onChange={(e) => setOp(e.target.value as Op)}>
            {ops.map((o) => (
              <option key={o} value={o}>
                {OP_LABELS[o]}
              </option>
            ))}
          </select>
        </div>
        <div className="filter-control filter-value">
          <label htmlFor={`${id}-value`}>{list ? "Values" : "Value"}</label>
          {severityPick ? (
            <select id={`${id}-value`} value={value} onChange={(e) => setValue(e.target.value)}>
              <option value="">Choose…</option>
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          ) : (
            <input
              id={`${id}-value`}
              value={value}
              onChange={(e) => setValue(e.target.value)}
              placeholder={list ? "a, b, c" : kind ? PLACEHOLDERS[kind] : ""}
              inputMode={kind === "integer" || kind === "number" ? "decimal" : undefined}
              autoComplete="off"
              spellCheck={false}
              aria-invalid={problem ? true : undefined}
              aria-describedby={[list ? hintId : null, problem ? problemId : null].filter(Boolean).join(" ") || undefined}
            />
          )}
          {list && (
            <span id={hintId} className="filter-hint">
              Separate values with commas.
            </span>
          )}
        </div>
        <button type="submit" className="primary" data-testid="add-filter">
          Add filter
        </button>
      </form>
      {problem && (
        <p id={problemId} className="inline-error filter-problem" role="alert">
          {problem}
        </p>
      )}
      {filters.length > 0 ? (
        <ul className="filter-chips" aria-label="Active filters" ref={chipsRef}>
          {filters.map((f, i) => (
            <li key={`${i}:${f}`} className="filter-chip" data-testid="filter-chip">
              <code className="filter-chip-text">{describeFilter(f)}</code>
              <button type="button" className="filter-chip-remove" onClick={() => remove(i)} aria-label={`Remove filter ${describeFilter(f)}`}>
                <span aria-hidden="true">×</span>
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="filter-none">No filters: every event in the time range is listed.</p>
      )}
      {error !== undefined && error !== null && (
        <div className="filter-error">
          <ErrorState error={error} />
          <p className="filter-hint">Change or remove the filter the message names.</p>
        </div>
      )}
      <div className="sr-only" role="status" aria-live="polite">
        {announce}
      </div>
    </section>
  );
}

function stripPrefix(text: string, prefix: string): string {
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}
