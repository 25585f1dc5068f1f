// One panel: runs its typed query over the dashboard's range (TanStack Query) and draws the
// rows as a chart over time, a table, a single number or a heat map.
import { useQuery } from "@tanstack/react-query";
import { useMemo, type ReactNode } from "react";
import type { QueryRow } from "../../api/types";
import { Stat } from "../../components/Card";
import { HeatMap } from "../../components/HeatMap";
import { Empty, ErrorState, Loading } from "../../components/States";
import { TimeSeriesChart, type SeriesKind } from "../../components/TimeSeriesChart";
import { formatCost, formatCount, formatMs } from "../../lib/format";
import { bucketStarts } from "../../lib/shape";
import { bucketMs, type ResolvedRange } from "../../lib/time";
import { fetchPanelRows } from "./api";
import {
  bucketOf,
  buildQuery,
  isSeriesKind,
  shapeHeatmap,
  shapeSeries,
  singleNumber,
  tableColumns,
  valueFormat,
  type Panel,
  type PanelQuery,
  type TableColumn,
  type ValueFormat,
} from "./model";

const plain = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });

function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  return Math.abs(n) >= 100_000 ? compact.format(n) : plain.format(n);
}

export function formatterFor(format: ValueFormat): (v: number) => string {
  switch (format) {
    case "cost":
      return formatCost;
    case "ms":
      return formatMs;
    case "count":
      return formatCount;
    default:
      return formatNumber;
  }
}

export const EMPTY_TEXT = (
  <>
    No data for this query in this time range. Pick a longer range, check the panel's filters
    (Edit), or send events — <code>make run</code> starts a demo generator.
  </>
);

interface BodyProps {
  panel: Panel;
  range: ResolvedRange;
  /** Auto-refresh period in seconds; 0 for none. */
  refreshSeconds?: number;
  /** Pixels the content may take (charts need a number). */
  height: number;
  /** A click on a bucket of a chart (view mode: open the events behind it). */
  onSelectBucket?: (bucket: string, panel: Panel) => void;
}

/** The content of a panel, with its loading, error and empty states. */
export function PanelBody({ panel, range, refreshSeconds = 0, height, onSelectBucket }: BodyProps) {
  const typed = useMemo(() => buildQuery(panel, range), [panel, range]);
  const series = isSeriesKind(panel.kind);
  const result = useQuery({
    queryKey: ["dashboard-panel", typed, series],
    queryFn: ({ signal }) => fetchPanelRows(typed, series, signal),
    placeholderData: (previous) => previous,
    refetchInterval: refreshSeconds > 0 ? refreshSeconds * 1000 : false,
  });

  if (result.error) {
    return <ErrorState error={result.error} retry={() => void result.refetch()} />;
  }
  if (!result.data) return <Loading />;
  const { rows, more, approximate } = result.data;
  if (rows.length === 0) return <Empty>{EMPTY_TEXT}</Empty>;

  const notes: string[] = [];
  if (approximate) notes.push("Percentiles from rollups are within 1 %.");
  let content: ReactNode;
  const spanMs = Date.parse(range.to) - Date.parse(range.from);
  const title = panel.title || "Untitled panel";
  if (series && panel.kind !== "heatmap") {
    const bucket = bucketOf(typed as PanelQuery) ?? range.bucket;
    const starts = bucketStarts(range.from, range.to, bucketMs(bucket));
    const shape = shapeSeries(rows, panel.query, starts);
    if (shape.note) notes.push(shape.note);
    if (more) notes.push("Only the first 20,000 rows are drawn: narrow the range or the filters.");
    content =
      shape.series.length === 0 ? (
        <Empty>{shape.note ?? "Nothing to draw: add an aggregate in the panel editor."}</Empty>
      ) : (
        <TimeSeriesChart
          label={title}
          data={shape.data}
          series={shape.series}
          kind={panel.kind as SeriesKind}
          spanMs={spanMs}
          format={formatterFor(valueFormat(shape.aggregate, panel.options))}
          height={Math.max(80, height - (notes.length ? 20 : 0))}
          onSelect={onSelectBucket ? (bucket) => onSelectBucket(bucket, panel) : undefined}
        />
      );
  } else if (panel.kind === "heatmap") {
    const shape = shapeHeatmap(rows, panel.query);
    content =
      shape.dimension && shape.value ? (
        <div style={{ maxHeight: height, overflow: "auto" }}>
          <HeatMap
            rows={shape.rows}
            dimension={shape.dimension}
            value={shape.value}
            spanMs={spanMs}
            label={title}
            format={formatterFor(valueFormat(shape.aggregate, panel.options))}
          />
        </div>
      ) : (
        <Empty>
          A heat map needs an aggregate and a group-by dimension besides time (for example model_id).
          Choose Edit on this panel to pick them.
        </Empty>
      );
  } else if (panel.kind === "number") {
    const { value, label } = singleNumber(rows, panel.query);
    const format = formatterFor(valueFormat(panel.query.aggregates?.[0], panel.options));
    if (rows.length > 1) notes.push(`The first of ${rows.length}${more ? "+" : ""} rows.`);
    content = (
      <div className="dash-number">
        <Stat label={title} value={value === null ? "–" : format(value)} hint={label ?? undefined} />
      </div>
    );
  } else {
    if (more) notes.push(`The first ${rows.length} rows: raise the query's limit to see more.`);
    content = <DataTable rows={rows} query={panel.query} label={title} maxHeight={height - (notes.length ? 20 : 0)} />;
  }
  return (
    <>
      {content}
      {notes.length > 0 && <p className="dash-panel-note">{notes.join(" ")}</p>}
    </>
  );
}

function cell(value: unknown, column: TableColumn): string {
  if (column.aggregate) {
    const n = value === null || value === undefined ? null : Number(value);
    return formatterFor(valueFormat(column.aggregate))(n as number);
  }
  if (value === null || value === undefined || value === "") return "(none)";
  if (column.key === "bucket" || column.key === "timestamp") {
    const t = Date.parse(String(value));
    return Number.isNaN(t) ? String(value) : new Date(t).toLocaleString();
  }
  if (typeof value === "object") return JSON.stringify(value).slice(0, 200);
  return String(value);
}

function DataTable({ rows, query, label, maxHeight }: { rows: QueryRow[]; query: PanelQuery; label: string; maxHeight: number }) {
  const columns = tableColumns(rows, query);
  return (
    // A scrolling region must be reachable by keyboard: it is focusable and named.
    <div className="dash-table-wrap" style={{ maxHeight: Math.max(60, maxHeight) }} tabIndex={0} role="region" aria-label={`${label} (table)`}>
      <table className="data">
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={c.numeric ? "num" : undefined}>
                {c.key}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {columns.map((c) => (
                <td key={c.key} className={c.numeric ? "num" : undefined}>
                  {cell(row[c.key], c)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
