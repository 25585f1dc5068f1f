// A heat map of a value by time bucket (columns) and a dimension (rows), drawn as SVG.
import { formatTick } from "../lib/format";

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

interface Props {
  rows: Record<string, unknown>[];
  dimension: string;
  value: string;
  spanMs: number;
  label: string;
  format: (v: number) => string;
  /** Called with a cell's bucket start and row key (to open the events behind it). */
  onSelect?: (bucket: string, key: string) => void;
}

export function HeatMap({ rows, dimension, value, spanMs, label, format, onSelect }: Props) {
  const buckets = [...new Set(rows.map((r) => String(r.bucket)))].sort();
  const keys = [...new Set(rows.map((r) => String(r[dimension] ?? "(none)")))].sort();
  const cell = new Map(rows.map((r) => [`${r.bucket}|${r[dimension] ?? "(none)"}`, Number(r[value]) || 0]));
  const max = Math.max(...cell.values(), 0) || 1;
  const left = 140;
  const top = 4;
  const w = Math.max(4, Math.min(24, 720 / Math.max(buckets.length, 1)));
  const h = 22;
  const width = left + w * buckets.length + 8;
  const height = top + h * keys.length + 24;
  return (
    <figure className="chart heatmap" aria-label={label} data-testid="chart">
      <svg width="100%" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
        {keys.map((k, y) => (
          <g key={k}>
            <text x={left - 6} y={top + y * h + h * 0.65} textAnchor="end" fontSize={11} fill="var(--text)">
              {k.length > 20 ? `${k.slice(0, 19)}…` : k}
            </text>
            {buckets.map((b, x) => {
              const v = cell.get(`${b}|${k}`) ?? 0;
              return (
                <rect
                  key={b}
                  className="heat-cell"
                  x={left + x * w}
                  y={top + y * h}
                  width={w - 1}
                  height={h - 1}
                  fill="var(--accent)"
                  fillOpacity={v === 0 ? 0.04 : 0.15 + 0.85 * (v / max)}
                  onClick={onSelect && v > 0 ? () => onSelect(b, k) : undefined}
                  style={onSelect && v > 0 ? { cursor: "pointer" } : undefined}
                >
                  <title>{`${k} · ${when.format(new Date(b))}: ${format(v)}`}</title>
                </rect>
              );
            })}
          </g>
        ))}
        {buckets.length > 0 && (
          <>
            <text x={left} y={height - 6} fontSize={11} fill="var(--muted)">
              {formatTick(buckets[0] as string, spanMs)}
            </text>
            <text x={width - 8} y={height - 6} fontSize={11} textAnchor="end" fill="var(--muted)">
              {formatTick(buckets[buckets.length - 1] as string, spanMs)}
            </text>
          </>
        )}
      </svg>
    </figure>
  );
}
