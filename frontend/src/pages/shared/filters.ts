// Explorer filters (`field:op:value`) for one item of a ranked list or one row of a table.

/**
 * The filter that selects the events of ``key`` in ``field``. The explorer's text filters
 * cannot say "missing", so the "(none)" group (``key`` null) is selected as "none of the
 * other values" (`not_in` also matches events without the field); with no other values
 * no filter is needed, and a value that contains a comma cannot be listed (null then too).
 * A field with a colon (a tag key may have one) cannot be said as `field:op:value`: null.
 */
export function keyFilter(field: string, key: string | null, allKeys: (string | null)[]): string | null {
  if (field.includes(":")) return null;
  if (key !== null) return `${field}:eq:${key}`;
  const others = [...new Set(allKeys.filter((k): k is string => k !== null && k !== ""))];
  if (others.length === 0 || others.some((k) => k.includes(","))) return null;
  return `${field}:not_in:${others.join(",")}`;
}

/** ``filters`` without the nulls (the filters that could not be said). */
export function present(...filters: (string | null | undefined)[]): string[] {
  return filters.filter((f): f is string => typeof f === "string" && f.length > 0);
}

/** A query result cell as a group key: null for a missing value. */
export function groupKey(value: unknown): string | null {
  return value === null || value === undefined || value === "" ? null : String(value);
}
