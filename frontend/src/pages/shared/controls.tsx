// Small labelled controls of the analysis pages' card headers.
import { useEffect, useId, useState } from "react";

export function LabelledSelect<T extends string>({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: T;
  options: { value: T; label: string }[];
  onChange: (value: T) => void;
}) {
  const id = useId();
  return (
    <span className="csp-control">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </span>
  );
}

/**
 * A text input that hands on its value once it is valid and the typing has paused, and
 * says what is wrong otherwise (in text, tied to the input).
 */
export function CommittedInput({
  label,
  value,
  onCommit,
  validate,
  delayMs = 400,
}: {
  label: string;
  value: string;
  onCommit: (value: string) => void;
  validate: (text: string) => string | null;
  delayMs?: number;
}) {
  const id = useId();
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  const problem = validate(draft.trim());
  useEffect(() => {
    const text = draft.trim();
    if (problem !== null || text === value) return;
    const timer = window.setTimeout(() => onCommit(text), delayMs);
    return () => window.clearTimeout(timer);
  }, [draft, problem, value, onCommit, delayMs]);
  return (
    <span className="csp-control">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        size={12}
        value={draft}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={problem !== null}
        aria-describedby={problem !== null ? `${id}-problem` : undefined}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && problem === null && draft.trim() !== value) onCommit(draft.trim());
        }}
      />
      {problem !== null && (
        <span id={`${id}-problem`} className="inline-error" role="alert">
          {problem}
        </span>
      )}
    </span>
  );
}
