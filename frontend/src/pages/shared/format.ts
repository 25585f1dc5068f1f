// Number formats the shared lib/format.ts lacks.
import { formatCount } from "../../lib/format";

/**
 * A count on a chart axis: whole numbers as formatCount does, fractions (axis ticks of a
 * small range, such as 0.25) with up to two decimals rather than rounded to a repeated 0 or 1.
 */
export function formatCountAxis(n: number): string {
  if (!Number.isFinite(n) || Number.isInteger(n)) return formatCount(n);
  return n.toLocaleString("en", { maximumFractionDigits: 2 });
}
