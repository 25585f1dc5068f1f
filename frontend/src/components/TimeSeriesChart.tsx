// Line, area, bar and stacked-bar charts over time buckets (Recharts).
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { formatTick } from "../lib/format";
import type { Series } from "../lib/shape";
import { colour } from "./palette";

export type SeriesKind = "line" | "area" | "bar" | "stacked_bar";

interface Props {
  data: Record<string, unknown>[];
  series: Series[];
  kind?: SeriesKind;
  spanMs: number;
  format?: (v: number) => string;
  height?: number;
  /** Called with the bucket start of the clicked point (to open the events behind it). */
  onSelect?: (bucket: string, series: string | null) => void;
  label: string;
}

export function TimeSeriesChart(props: Props) {
  const { data, series, kind = "line", spanMs, format, height = 240, onSelect, label } = props;
  const tickFormatter = (v: string) => formatTick(v, spanMs);
  const valueFormatter = (v: unknown) => (format && typeof v === "number" ? format(v) : String(v));
  const axes = [
    <CartesianGrid key="grid" strokeDasharray="3 3" stroke="var(--grid)" />,
    <XAxis
      key="x"
      dataKey="bucket"
      tickFormatter={tickFormatter}
      minTickGap={40}
      stroke="var(--muted)"
      fontSize={12}
    />,
    <YAxis
      key="y"
      tickFormatter={(v: number) => (format ? format(v) : String(v))}
      width={72}
      stroke="var(--muted)"
      fontSize={12}
    />,
    <Tooltip
      key="tip"
      labelFormatter={(v) => new Date(String(v)).toLocaleString()}
      formatter={valueFormatter}
      contentStyle={{ background: "var(--surface)", border: "1px solid var(--border)" }}
    />,
    series.length > 1 ? <Legend key="legend" wrapperStyle={{ fontSize: 12 }} verticalAlign="bottom" height={28} /> : null,
  ];
  // Recharts hands the active point of the chart to onClick; its label is the bucket.
  const click = onSelect
    ? (state: { activeLabel?: string | number } | null) => {
        if (state?.activeLabel !== undefined) onSelect(String(state.activeLabel), null);
      }
    : undefined;
  const common = { data, margin: { top: 8, right: 16, bottom: 0, left: 0 }, onClick: click };
  let chart;
  if (kind === "bar" || kind === "stacked_bar") {
    chart = (
      <BarChart {...common}>
        {axes}
        {series.map((s, i) => (
          <Bar
            key={s.key}
            dataKey={s.key}
            name={s.label}
            fill={colour(i)}
            stackId={kind === "stacked_bar" ? "stack" : undefined}
            isAnimationActive={false}
          />
        ))}
      </BarChart>
    );
  } else if (kind === "area") {
    chart = (
      <AreaChart {...common}>
        {axes}
        {series.map((s, i) => (
          <Area
            key={s.key}
            dataKey={s.key}
            name={s.label}
            stroke={colour(i)}
            fill={colour(i)}
            fillOpacity={0.25}
            stackId="stack"
            isAnimationActive={false}
          />
        ))}
      </AreaChart>
    );
  } else {
    chart = (
      <LineChart {...common}>
        {axes}
        {series.map((s, i) => (
          <Line
            key={s.key}
            dataKey={s.key}
            name={s.label}
            stroke={colour(i)}
            dot={false}
            strokeWidth={2}
            connectNulls={false}
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    );
  }
  return (
    <figure className="chart" aria-label={label} data-testid="chart" style={{ height }}>
      <ResponsiveContainer width="100%" height="100%">
        {chart}
      </ResponsiveContainer>
    </figure>
  );
}
