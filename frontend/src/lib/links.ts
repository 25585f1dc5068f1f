// Links from a chart point or a ranked item to the events behind it (the explorer).
import type { Bucket } from "../api/types";
import { bucketMs, iso } from "./time";

export function explorerLink(opts: {
  from: string;
  to: string;
  filters?: string[];
}): string {
  const params = new URLSearchParams({ from: opts.from, to: opts.to });
  for (const f of opts.filters ?? []) params.append("f", f);
  return `/explorer?${params}`;
}

/** The explorer over one bucket of a chart. */
export function bucketLink(bucketStart: string, bucket: Bucket, filters: string[] = []): string {
  const start = Date.parse(bucketStart);
  return explorerLink({ from: iso(start), to: iso(start + bucketMs(bucket)), filters });
}
