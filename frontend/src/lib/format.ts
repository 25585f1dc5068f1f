// Numbers as people read them on a dashboard.
const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat("en");
const cents = new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  return Math.abs(n) >= 10_000 ? compact.format(n) : whole.format(Math.round(n));
}

export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || Number.isNaN(usd)) return "–";
  if (usd !== 0 && Math.abs(usd) < 0.01) return `$${usd.toPrecision(2)}`;
  if (Math.abs(usd) >= 100_000) return `$${compact.format(usd)}`;
  return `$${cents.format(usd)}`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.round(ms)} ms`;
}

export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return "–";
  return `${(ratio * 100).toFixed(ratio < 0.01 && ratio > 0 ? 2 : 1)} %`;
}

export function formatChange(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return "new";
  const sign = ratio > 0 ? "+" : "";
  return `${sign}${(ratio * 100).toFixed(0)} %`;
}

// Made once: Recharts formats every point's label to lay out the axis, and a
// toLocale*String call builds a new formatter each time (most of the first draw's JS).
const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayOfMonth = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

/** Short time label for an axis: hours and minutes within two days, else the date. */
export function formatTick(isoTime: string, spanMs: number): string {
  const d = new Date(isoTime);
  return spanMs <= 2 * 86_400_000 ? timeOfDay.format(d) : dayOfMonth.format(d);
}
