// Spend: over time by model, provider, application or tag; per 1,000 calls; what moved
// against the previous period; and the calls the hub could not price.
import { useQuery } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { Card, Stat } from "../components/Card";
import { PageHeader } from "../components/Layout";
import { TimeRangePicker } from "../components/TimeRangePicker";
import { TimeSeriesChart } from "../components/TimeSeriesChart";
import { TopList } from "../components/TopList";
import { formatCost, formatCount, formatPercent } from "../lib/format";
import { bucketLink, explorerLink } from "../lib/links";
import { bucketStarts, fillBuckets, pivot, topMovers } from "../lib/shape";
import { bucketMs, previousRange, type ResolvedRange } from "../lib/time";
import { useRange } from "../state/useRange";
import {
  costPer1k,
  isTagKey,
  moverRows,
  parseSpendBy,
  parseTagKey,
  per1kTotal,
  periodChange,
  SPEND_BY,
  spendField,
  spendLabel,
  sumColumn,
  type MoverRow,
  type SpendBy,
  withSpend,
} from "./cost/shape";
import { CommittedInput, LabelledSelect } from "./shared/controls";
import { groupKey, keyFilter, present } from "./shared/filters";
import { formatCountAxis } from "./shared/format";
import { eq, fetchRows, LLM_CALLS, LLM_CALLS_LINK, sourceNote, typedQuery } from "./shared/query";

const UNPRICED = eq("cost_source", "unpriced");
const UNPRICED_LINK = "cost_source:eq:unpriced";
const SUM_COST = { fn: "sum", field: "cost_usd", as: "cost" } as const;

type ChartKind = "stacked_bar" | "area";
const CHART_KINDS: { value: ChartKind; label: string }[] = [
  { value: "stacked_bar", label: "Stacked bars" },
  { value: "area", label: "Stacked area" },
];

function rangeKey(range: ResolvedRange) {
  return [range.from, range.to, range.bucket] as const;
}

/** Spend per value of ``field`` over ``range`` (the movers' two periods). */
function useSpendBy(field: string, range: ResolvedRange) {
  return useQuery({
    queryKey: ["cost", "by", field, ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, { filters: [LLM_CALLS], groupBy: [field], aggregates: [SUM_COST] }),
        signal,
      ).then((r) => ({ ...r, field })),
    placeholderData: (previous) => previous,
  });
}

export default function Cost() {
  const state = useRange();
  const { range } = state;
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const by = parseSpendBy(params.get("by"));
  const tagKey = parseTagKey(params.get("tag"));
  const field = spendField(by, tagKey);
  const [kind, setKind] = useState<ChartKind>("stacked_bar");
  const span = Date.parse(range.to) - Date.parse(range.from);
  const starts = useMemo(
    () => bucketStarts(range.from, range.to, bucketMs(range.bucket)),
    [range.from, range.to, range.bucket],
  );
  const previous = previousRange(range);

  const setParam = useCallback(
    (name: string, value: string) =>
      setParams(
        (p) => {
          const next = new URLSearchParams(p);
          next.set(name, value);
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );
  const commitTag = useCallback((key: string) => setParam("tag", key), [setParam]);

  const spend = useQuery({
    queryKey: ["cost", "spend", field, ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: [LLM_CALLS],
          groupBy: [field, { bucket: range.bucket }],
          aggregates: [SUM_COST],
        }),
        signal,
      ).then((r) => ({ ...r, field })),
    placeholderData: (prev) => prev,
  });
  const totals = useQuery({
    queryKey: ["cost", "totals", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: [LLM_CALLS],
          groupBy: [{ bucket: range.bucket }],
          aggregates: [SUM_COST, { fn: "count", as: "requests" }],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });
  const unpriced = useQuery({
    queryKey: ["cost", "unpriced", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: [LLM_CALLS, UNPRICED],
          groupBy: [{ bucket: range.bucket }],
          aggregates: [{ fn: "count", as: "unpriced" }],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });
  const unpricedModels = useQuery({
    queryKey: ["cost", "unpriced-models", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: [LLM_CALLS, UNPRICED],
          groupBy: ["model_id"],
          aggregates: [{ fn: "count", as: "unpriced" }],
          orderBy: [{ field: "unpriced", direction: "desc" }],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });
  const currentBy = useSpendBy(field, range);
  const previousBy = useSpendBy(field, previous);

  // Shaped for the charts; each result says which field it was for, so that a result of
  // the previous "by" shown while the new one loads is never drawn under the new name.
  const spendChart = useMemo(() => {
    const data = spend.data;
    if (!data) return null;
    const wide = pivot(withSpend(data.rows), data.field, "cost", 8);
    const keys = wide.series.map((s) => s.key);
    return { ...wide, data: fillBuckets(wide.data, starts, keys, 0), source: data.source, field: data.field };
  }, [spend.data, starts]);
  const per1k = useMemo(
    () => (totals.data && unpriced.data ? costPer1k(totals.data.rows, unpriced.data.rows, starts) : null),
    [totals.data, unpriced.data, starts],
  );
  const movers = useMemo(() => {
    const cur = currentBy.data;
    const prev = previousBy.data;
    if (!cur || !prev || cur.field !== prev.field) return null;
    return { field: cur.field, rows: moverRows(topMovers(cur.rows, prev.rows, cur.field, "cost", 10)) };
  }, [currentBy.data, previousBy.data]);

  const totalCost = totals.data ? sumColumn(totals.data.rows, "cost") : null;
  const totalCalls = totals.data ? sumColumn(totals.data.rows, "requests") : null;
  const totalUnpriced = unpriced.data ? sumColumn(unpriced.data.rows, "unpriced") : null;
  const previousCost = previousBy.data && previousBy.data.field === field ? sumColumn(previousBy.data.rows, "cost") : null;

  const toBucket = (filters: string[]) => (bucket: string) => navigate(bucketLink(bucket, range.bucket, filters));
  const toEvents = (filters: string[]) =>
    navigate(explorerLink({ from: range.from, to: range.to, filters }));
  const label = spendLabel(by, tagKey);

  return (
    <>
      <PageHeader title="Cost">
        <TimeRangePicker state={state} />
      </PageHeader>

      <div className="stats" aria-label="Totals">
        <Stat
          label="Spend"
          value={formatCost(totalCost)}
          hint={totalCost !== null && previousCost !== null ? periodChange(totalCost, previousCost) : undefined}
        />
        <Stat label="Model calls" value={formatCount(totalCalls)} />
        <Stat
          label="Cost per 1k calls"
          value={formatCost(
            totalCost !== null && totalCalls !== null && totalUnpriced !== null
              ? per1kTotal(totalCost, totalCalls, totalUnpriced)
              : null,
          )}
          hint="spend per 1,000 priced calls"
        />
        <Stat
          label="Unpriced calls"
          value={formatCount(totalUnpriced)}
          tone={totalUnpriced ? "warn" : undefined}
          hint={
            totalUnpriced === null
              ? undefined
              : totalUnpriced > 0
                ? `${formatPercent(totalCalls ? totalUnpriced / totalCalls : 0)} of calls: not in spend`
                : "every call has a cost"
          }
        />
      </div>

      <div className="grid">
        <Card
          title="Spend over time"
          subtitle={
            spendChart
              ? `By ${spendLabel(by, tagKey)}: the top 8, the rest as (other); ${sourceNote(spendChart.source, spend.data?.truncated)}`
              : `By ${label}`
          }
          className="span-12"
          actions={
            <div className="csp-controls">
              <LabelledSelect<SpendBy> label="By" value={by} options={SPEND_BY} onChange={(v) => setParam("by", v)} />
              {by === "tag" && (
                <CommittedInput
                  label="Tag key"
                  value={tagKey}
                  onCommit={commitTag}
                  validate={(text) =>
                    isTagKey(text) ? null : "A tag key: 1–128 letters, digits or _ . : / -"
                  }
                />
              )}
              <LabelledSelect<ChartKind> label="Chart" value={kind} options={CHART_KINDS} onChange={setKind} />
            </div>
          }
          loading={spend.isPending}
          error={spend.error}
          retry={() => void spend.refetch()}
          empty={!spendChart || spendChart.series.length === 0}
          emptyText={
            spend.data && spend.data.rows.length > 0 ? "The calls of this range have no cost: see unpriced calls below." : undefined
          }
        >
          {spendChart && by === "tag" && spendChart.series.every((s) => s.key === "(none)") && (
            <p className="csp-hint">
              No model call in this range has a tag <code>{tagKey}</code>: all spend is under (none).
            </p>
          )}
          {spendChart && (
            <TimeSeriesChart
              label={`Spend over time by ${label}`}
              data={spendChart.data}
              series={spendChart.series}
              kind={kind}
              spanMs={span}
              format={formatCost}
              height={300}
              onSelect={toBucket([LLM_CALLS_LINK])}
            />
          )}
        </Card>

        <Card
          title="Cost per 1,000 calls"
          subtitle="Spend ÷ priced calls × 1,000 per bucket (unpriced calls left out); from rollups"
          className="span-6"
          loading={totals.isPending || unpriced.isPending}
          error={totals.error ?? unpriced.error}
          retry={() => {
            void totals.refetch();
            void unpriced.refetch();
          }}
          empty={!per1k || totalCalls === 0}
        >
          {per1k && (
            <TimeSeriesChart
              label="Cost per 1,000 calls over time"
              data={per1k as unknown as Record<string, unknown>[]}
              series={[{ key: "per1k", label: "cost per 1k calls" }]}
              kind="line"
              spanMs={span}
              format={formatCost}
              onSelect={toBucket([LLM_CALLS_LINK])}
            />
          )}
        </Card>

        <UnpricedCard
          loading={unpriced.isPending || unpricedModels.isPending || totals.isPending}
          error={unpriced.error ?? unpricedModels.error ?? totals.error}
          retry={() => {
            void unpriced.refetch();
            void unpricedModels.refetch();
          }}
          total={totalUnpriced ?? 0}
          calls={totalCalls ?? 0}
          series={per1k ?? []}
          models={unpricedModels.data?.rows ?? []}
          span={span}
          onBucket={toBucket([LLM_CALLS_LINK, UNPRICED_LINK])}
          onModel={(key, all) => toEvents(present(LLM_CALLS_LINK, UNPRICED_LINK, keyFilter("model_id", key, all)))}
        />

        <Card
          title="Top movers"
          subtitle={`Spend by ${label}, this period against the one before (${new Date(previous.from).toLocaleString()} – ${new Date(previous.to).toLocaleString()})`}
          className="span-12"
          loading={currentBy.isPending || previousBy.isPending}
          error={currentBy.error ?? previousBy.error}
          retry={() => {
            void currentBy.refetch();
            void previousBy.refetch();
          }}
          empty={!movers || movers.rows.length === 0}
          emptyText="No spend in this period or the one before."
        >
          {movers && (
            <MoversTable
              rows={movers.rows}
              label={label}
              onSelect={(key) =>
                toEvents(
                  present(
                    LLM_CALLS_LINK,
                    keyFilter(movers.field, key, (currentBy.data?.rows ?? []).map((r) => groupKey(r[movers.field]))),
                  ),
                )
              }
            />
          )}
        </Card>
      </div>
    </>
  );
}

function MoversTable({
  rows,
  label,
  onSelect,
}: {
  rows: MoverRow[];
  label: string;
  onSelect: (key: string | null) => void;
}) {
  return (
    <table className="data csp-movers">
      <caption className="sr-only">Spend by {label}: this period, the previous one, and the change</caption>
      <thead>
        <tr>
          <th scope="col">{label.charAt(0).toUpperCase() + label.slice(1)}</th>
          <th scope="col" className="num">
            This period
          </th>
          <th scope="col" className="num">
            Previous period
          </th>
          <th scope="col" className="num">
            Difference
          </th>
          <th scope="col" className="num">
            Change
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const key = groupKey(row.key === "(none)" ? null : row.key);
          return (
            <tr key={row.key}>
              <th scope="row">
                <button type="button" className="link-button" onClick={() => onSelect(key)}>
                  {row.key}
                </button>
              </th>
              <td className="num">{formatCost(row.current)}</td>
              <td className="num">{formatCost(row.previous)}</td>
              <td className={`num ${row.direction === "flat" ? "" : row.direction}`}>{row.deltaText}</td>
              <td className={`num ${row.direction === "flat" ? "" : row.direction}`}>
                <span aria-hidden="true">{row.direction === "up" ? "▲ " : row.direction === "down" ? "▼ " : ""}</span>
                {row.changeText}
                <span className="sr-only">{row.direction === "up" ? " (more spend)" : row.direction === "down" ? " (less spend)" : ""}</span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function UnpricedCard(props: {
  loading: boolean;
  error: unknown;
  retry: () => void;
  total: number;
  calls: number;
  series: { bucket: string; unpriced: number }[];
  models: Record<string, unknown>[];
  span: number;
  onBucket: (bucket: string) => void;
  onModel: (key: string | null, all: (string | null)[]) => void;
}) {
  const { total, calls, models } = props;
  const items = models.map((r) => ({ key: groupKey(r.model_id), value: Number(r.unpriced) || 0 }));
  const hint = (
    <p className="csp-hint">
      An unpriced call carried tokens but no cost, and the hub has no price for its model on its day. Its cost is
      unknown, not zero, so it is left out of the spend above. Add a price (an override under{" "}
      <code>/api/v1/prices/overrides</code>, or <code>analytics-hub prices</code>) and these calls are re-priced.
    </p>
  );
  return (
    <Card
      title="Unpriced calls"
      subtitle="cost_source = unpriced; from rollups"
      className="span-6"
      loading={props.loading}
      error={props.error}
      retry={props.retry}
    >
      {total === 0 ? (
        <>
          <p className="csp-ok">
            <span aria-hidden="true">✓ </span>
            All {formatCount(calls)} model calls in this range have a cost.
          </p>
          {hint}
        </>
      ) : (
        <>
          <p className="csp-warn">
            <span aria-hidden="true">⚠ </span>
            <strong>{formatCount(total)}</strong> of {formatCount(calls)} calls ({formatPercent(calls ? total / calls : 0)}) have
            no price: spend is understated by their cost.
          </p>
          {hint}
          <TimeSeriesChart
            label="Unpriced calls over time"
            data={props.series as unknown as Record<string, unknown>[]}
            series={[{ key: "unpriced", label: "unpriced calls" }]}
            kind="bar"
            spanMs={props.span}
            format={formatCountAxis}
            height={160}
            onSelect={props.onBucket}
          />
          <h3 className="csp-subhead">By model</h3>
          <TopList
            label="Unpriced calls by model"
            items={items}
            format={formatCount}
            onSelect={(key) => props.onModel(key, items.map((i) => i.key))}
          />
        </>
      )}
    </Card>
  );
}
