// The first page: model-call volume, errors, latency, tokens and cost over the range.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useRef } from "react";
import { useNavigate } from "react-router-dom";
import { fetchOverview } from "../api/client";
import type { Overview as OverviewData } from "../api/types";
import { Card, Stat } from "../components/Card";
import { PageHeader } from "../components/Layout";
import { ErrorState, Loading } from "../components/States";
import { TimeRangePicker } from "../components/TimeRangePicker";
import { TimeSeriesChart } from "../components/TimeSeriesChart";
import { TopList } from "../components/TopList";
import { formatCost, formatCount, formatMs, formatPercent } from "../lib/format";
import { bucketLink, explorerLink } from "../lib/links";
import { bucketStarts, fillBuckets } from "../lib/shape";
import { bucketMs } from "../lib/time";
import { LiveBadge, useLive } from "../live/useLive";
import { useRange } from "../state/useRange";

const CALLS = "payload_subtype:eq:llm_call";

export function Overview() {
  const state = useRange();
  const { range, spec } = state;
  const navigate = useNavigate();
  const client = useQueryClient();
  const queryKey = ["overview", range.from, range.to, range.bucket];
  const overview = useQuery({
    queryKey,
    queryFn: ({ signal }) => fetchOverview(range.from, range.to, range.bucket, signal),
    placeholderData: (previous) => previous,
  });

  // New minutes arrive over the live feed; refetch at most every 5 s (not polling: only
  // when something changed, and only for a range that ends now).
  const last = useRef(0);
  const live = useLive(
    spec.kind === "relative",
    [],
    {
      onMetrics: () => {
        const now = Date.now();
        if (now - last.current < 5_000) return;
        last.current = now;
        void client.invalidateQueries({ queryKey: ["overview"] });
      },
    },
    { events: false, metrics: true },
  );

  const span = Date.parse(range.to) - Date.parse(range.from);
  const data = overview.data;
  const series = useMemo(() => (data ? filledSeries(data) : []), [data]);
  const toBucket = (bucket: string) => navigate(bucketLink(bucket, range.bucket, [CALLS]));
  const toKey = (field: string) => (key: string | null) =>
    navigate(
      explorerLink({
        from: range.from,
        to: range.to,
        // Events without the field cannot be asked for by `field:op:value`: the range only.
        filters: key === null ? [CALLS] : [CALLS, `${field}:eq:${key}`],
      }),
    );

  return (
    <>
      <PageHeader title="Overview">
        {spec.kind === "relative" && <LiveBadge {...live} />}
        <TimeRangePicker state={state} />
      </PageHeader>
      {overview.error && !data ? (
        <ErrorState error={overview.error} retry={() => void overview.refetch()} />
      ) : !data ? (
        <Loading />
      ) : (
        <>
          <Totals data={data} />
          {data.totals.requests === 0 && (
            <p className="state state-empty">
              No model calls in this range. Pick a longer range, or send events — <code>make run</code>{" "}
              starts a demo generator.
            </p>
          )}
          <div className="grid">
            <Card title="Requests and errors" className="span-6" empty={data.totals.requests === 0}>
              <TimeSeriesChart
                label="Requests and errors over time"
                data={series}
                series={[
                  { key: "requests", label: "requests" },
                  { key: "errors", label: "errors" },
                ]}
                kind="line"
                spanMs={span}
                format={formatCount}
                onSelect={toBucket}
              />
            </Card>
            <Card title="Latency" subtitle="p50 · p95 · p99" className="span-6" empty={data.totals.requests === 0}>
              <TimeSeriesChart
                label="Latency percentiles over time"
                data={series}
                series={[
                  { key: "p50_latency_ms", label: "p50" },
                  { key: "p95_latency_ms", label: "p95" },
                  { key: "p99_latency_ms", label: "p99" },
                ]}
                spanMs={span}
                format={formatMs}
                onSelect={toBucket}
              />
            </Card>
            <Card title="Cost" className="span-6" empty={data.totals.requests === 0}>
              <TimeSeriesChart
                label="Cost over time"
                data={series}
                series={[{ key: "cost_usd", label: "cost (USD)" }]}
                kind="bar"
                spanMs={span}
                format={formatCost}
                onSelect={toBucket}
              />
            </Card>
            <Card title="Tokens" subtitle="input · output" className="span-6" empty={data.totals.requests === 0}>
              <TimeSeriesChart
                label="Tokens over time"
                data={series}
                series={[
                  { key: "input_tokens", label: "input" },
                  { key: "output_tokens", label: "output" },
                ]}
                kind="area"
                spanMs={span}
                format={formatCount}
                onSelect={toBucket}
              />
            </Card>
            <Card title="Top models by cost" className="span-3" empty={data.top_models_by_cost.length === 0}>
              <TopList label="Top models by cost" items={data.top_models_by_cost} format={formatCost} onSelect={toKey("model_id")} />
            </Card>
            <Card title="Top models by errors" className="span-3" empty={data.top_models_by_errors.length === 0} emptyText="No errors in this range.">
              <TopList label="Top models by errors" items={data.top_models_by_errors} format={formatCount} onSelect={toKey("model_id")} />
            </Card>
            <Card title="Top applications by cost" className="span-3" empty={data.top_assets_by_cost.length === 0}>
              <TopList label="Top applications by cost" items={data.top_assets_by_cost} format={formatCost} onSelect={toKey("asset_id")} />
            </Card>
            <Card title="Top applications by errors" className="span-3" empty={data.top_assets_by_errors.length === 0} emptyText="No errors in this range.">
              <TopList label="Top applications by errors" items={data.top_assets_by_errors} format={formatCount} onSelect={toKey("asset_id")} />
            </Card>
          </div>
        </>
      )}
    </>
  );
}

function Totals({ data }: { data: OverviewData }) {
  const t = data.totals;
  const unpricedShare = t.requests > 0 ? t.unpriced_events / t.requests : 0;
  return (
    <div className="stats" aria-label="Totals">
      <Stat label="Requests" value={formatCount(t.requests)} />
      <Stat label="Error rate" value={formatPercent(t.error_rate)} hint={`${formatCount(t.errors)} errors`} tone={(t.error_rate ?? 0) > 0.05 ? "bad" : undefined} />
      <Stat label="p50 latency" value={formatMs(t.p50_latency_ms)} />
      <Stat label="p95 latency" value={formatMs(t.p95_latency_ms)} />
      <Stat label="p99 latency" value={formatMs(t.p99_latency_ms)} />
      <Stat label="Tokens in" value={formatCount(t.input_tokens)} />
      <Stat label="Tokens out" value={formatCount(t.output_tokens)} />
      <Stat
        label="Cost"
        value={formatCost(t.cost_usd)}
        hint={t.unpriced_events > 0 ? "excludes unpriced calls" : "all calls priced"}
      />
      <Stat
        label="Unpriced calls"
        value={formatCount(t.unpriced_events)}
        hint={t.unpriced_events > 0 ? `${formatPercent(unpricedShare)} of calls have no price: add one under prices` : undefined}
        tone={t.unpriced_events > 0 ? "warn" : undefined}
      />
    </div>
  );
}

function filledSeries(data: OverviewData): Record<string, unknown>[] {
  const starts = bucketStarts(data.from, data.to, bucketMs(data.bucket));
  // Buckets without calls: counts are 0, percentiles have no value (a gap, not 0 ms).
  const filled = fillBuckets(
    data.series as unknown as Record<string, unknown>[],
    starts,
    ["requests", "errors", "cost_usd", "input_tokens", "output_tokens"],
    0,
  );
  return filled.map((row) => ({
    p50_latency_ms: null,
    p95_latency_ms: null,
    p99_latency_ms: null,
    ...row,
  }));
}
