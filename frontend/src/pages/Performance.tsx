// Latency percentiles overall and per model, time to first token, errors by type and the
// slowest applications, over the range of the URL.
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { Card, Stat } from "../components/Card";
import { PageHeader } from "../components/Layout";
import { TimeRangePicker } from "../components/TimeRangePicker";
import { TimeSeriesChart } from "../components/TimeSeriesChart";
import { TopList } from "../components/TopList";
import { formatCount, formatMs, formatPercent } from "../lib/format";
import { bucketLink, explorerLink } from "../lib/links";
import { bucketStarts, fillBuckets } from "../lib/shape";
import { bucketMs, type ResolvedRange } from "../lib/time";
import { useRange } from "../state/useRange";
import { groupOptions, share, topEntries, widen } from "./performance/shape";
import { LabelledSelect } from "./shared/controls";
import { keyFilter, present } from "./shared/filters";
import { eq, fetchRows, LLM_CALLS, LLM_CALLS_LINK, sourceNote, typedQuery } from "./shared/query";

const ALL = "";
const PERCENTILES = [
  { fn: "p50", field: "latency_ms", as: "p50" },
  { fn: "p95", field: "latency_ms", as: "p95" },
  { fn: "p99", field: "latency_ms", as: "p99" },
] as const;

function rangeKey(range: ResolvedRange) {
  return [range.from, range.to, range.bucket] as const;
}

export default function Performance() {
  const state = useRange();
  const { range } = state;
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const model = params.get("model") ?? ALL;
  const span = Date.parse(range.to) - Date.parse(range.from);
  const starts = useMemo(
    () => bucketStarts(range.from, range.to, bucketMs(range.bucket)),
    [range.from, range.to, range.bucket],
  );
  const setModel = (value: string) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (value) next.set("model", value);
        else next.delete("model");
        return next;
      },
      { replace: true },
    );

  const overall = useQuery({
    queryKey: ["performance", "overall", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: [LLM_CALLS],
          aggregates: [...PERCENTILES, { fn: "avg", field: "ttft_ms", as: "ttft" }, { fn: "count", as: "requests" }],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });
  const byModel = useQuery({
    queryKey: ["performance", "by-model", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: [LLM_CALLS],
          groupBy: ["model_id"],
          aggregates: [{ fn: "count", as: "requests" }, { fn: "p95", field: "latency_ms", as: "p95" }],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });
  const percentiles = useQuery({
    queryKey: ["performance", "percentiles", model, ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: model ? [LLM_CALLS, eq("model_id", model)] : [LLM_CALLS],
          groupBy: [{ bucket: range.bucket }],
          aggregates: [...PERCENTILES],
        }),
        signal,
      ).then((r) => ({ ...r, model })),
    placeholderData: (prev) => prev,
  });
  const byModelTime = useQuery({
    queryKey: ["performance", "by-model-time", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: [LLM_CALLS],
          groupBy: [{ bucket: range.bucket }, "model_id"],
          aggregates: [
            { fn: "p95", field: "latency_ms", as: "p95" },
            { fn: "avg", field: "ttft_ms", as: "ttft" },
            { fn: "count", as: "requests" },
          ],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });
  const errors = useQuery({
    queryKey: ["performance", "errors", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: [LLM_CALLS, eq("status", "error")],
          groupBy: ["error_type"],
          aggregates: [{ fn: "count", as: "errors" }],
          orderBy: [{ field: "errors", direction: "desc" }],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });
  const assets = useQuery({
    queryKey: ["performance", "assets", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: [LLM_CALLS],
          groupBy: ["asset_id"],
          aggregates: [{ fn: "p95", field: "latency_ms", as: "p95" }, { fn: "count", as: "requests" }],
          orderBy: [{ field: "p95", direction: "desc" }],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });

  const totals = overall.data?.rows[0];
  const requests = Number(totals?.requests ?? 0) || 0;
  const errorCount = errors.data ? errors.data.rows.reduce((s, r) => s + (Number(r.errors) || 0), 0) : null;
  const errorRate = errorCount !== null ? share(errorCount, requests) : null;

  const models = useMemo(() => {
    const options = groupOptions(byModel.data?.rows ?? [], "model_id", "requests");
    if (model && !options.some((o) => o.value === model)) options.unshift({ value: model, label: model });
    return [{ value: ALL, label: "All models" }, ...options];
  }, [byModel.data, model]);
  const percentileData = useMemo(
    () => (percentiles.data ? fillBuckets(percentiles.data.rows, starts, ["p50", "p95", "p99"], null) : null),
    [percentiles.data, starts],
  );
  const p95ByModel = useMemo(
    () =>
      byModelTime.data
        ? widen(byModelTime.data.rows, { dimension: "model_id", value: "p95", weight: "requests", top: 8, starts })
        : null,
    [byModelTime.data, starts],
  );
  const ttftByModel = useMemo(
    () =>
      byModelTime.data
        ? widen(byModelTime.data.rows, { dimension: "model_id", value: "ttft", weight: "requests", top: 8, starts })
        : null,
    [byModelTime.data, starts],
  );
  const errorItems = useMemo(() => topEntries(errors.data?.rows ?? [], "error_type", "errors", 20), [errors.data]);
  const assetItems = useMemo(() => topEntries(assets.data?.rows ?? [], "asset_id", "p95", 10), [assets.data]);
  const modelItems = useMemo(() => topEntries(byModel.data?.rows ?? [], "model_id", "p95", 10), [byModel.data]);

  const toBucket = (filters: string[]) => (bucket: string) => navigate(bucketLink(bucket, range.bucket, filters));
  const toEvents = (filters: string[]) => navigate(explorerLink({ from: range.from, to: range.to, filters }));
  const shownModel = percentiles.data?.model ?? model;
  const modelLink = shownModel ? `model_id:eq:${shownModel}` : null;
  const noCalls = overall.data !== undefined && requests === 0;

  return (
    <>
      <PageHeader title="Performance">
        <TimeRangePicker state={state} />
      </PageHeader>

      <div className="stats" aria-label="Totals">
        <Stat label="Model calls" value={formatCount(totals ? requests : null)} />
        <Stat
          label="Error rate"
          value={formatPercent(errorRate)}
          hint={errorCount !== null ? `${formatCount(errorCount)} errors` : undefined}
          tone={(errorRate ?? 0) > 0.05 ? "bad" : undefined}
        />
        <Stat label="p50 latency" value={formatMs(totals?.p50 as number | null | undefined)} />
        <Stat label="p95 latency" value={formatMs(totals?.p95 as number | null | undefined)} />
        <Stat label="p99 latency" value={formatMs(totals?.p99 as number | null | undefined)} />
        <Stat label="Avg time to first token" value={formatMs(totals?.ttft as number | null | undefined)} />
      </div>

      <div className="grid">
        <Card
          title="Latency percentiles"
          subtitle={`p50 · p95 · p99 of ${shownModel || "all models"}; ${sourceNote(percentiles.data?.source)}`}
          className="span-6"
          actions={
            <div className="csp-controls">
              <LabelledSelect label="Model" value={model} options={models} onChange={setModel} />
            </div>
          }
          loading={percentiles.isPending}
          error={percentiles.error}
          retry={() => void percentiles.refetch()}
          empty={!percentiles.data || percentiles.data.rows.length === 0}
          emptyText={shownModel ? `No calls of ${shownModel} in this range.` : undefined}
        >
          {percentileData && (
            <TimeSeriesChart
              label={`Latency percentiles over time, ${shownModel || "all models"}`}
              data={percentileData}
              series={[
                { key: "p50", label: "p50" },
                { key: "p95", label: "p95" },
                { key: "p99", label: "p99" },
              ]}
              spanMs={span}
              format={formatMs}
              onSelect={toBucket(present(LLM_CALLS_LINK, modelLink))}
            />
          )}
        </Card>

        <Card
          title="p95 latency by model"
          subtitle={`The 8 busiest models; ${sourceNote(byModelTime.data?.source)}`}
          className="span-6"
          loading={byModelTime.isPending}
          error={byModelTime.error}
          retry={() => void byModelTime.refetch()}
          empty={!p95ByModel || p95ByModel.series.length === 0}
        >
          {p95ByModel && (
            <TimeSeriesChart
              label="p95 latency over time by model"
              data={p95ByModel.data}
              series={p95ByModel.series}
              spanMs={span}
              format={formatMs}
              onSelect={toBucket([LLM_CALLS_LINK])}
            />
          )}
        </Card>

        <Card
          title="Time to first token by model"
          subtitle={`Average, the 8 busiest models that report it; ${sourceNote(byModelTime.data?.source)}`}
          className="span-6"
          loading={byModelTime.isPending}
          error={byModelTime.error}
          retry={() => void byModelTime.refetch()}
          empty={!ttftByModel || ttftByModel.series.length === 0}
          emptyText={noCalls ? undefined : "No call in this range reports a time to first token."}
        >
          {ttftByModel && (
            <TimeSeriesChart
              label="Average time to first token over time by model"
              data={ttftByModel.data}
              series={ttftByModel.series}
              spanMs={span}
              format={formatMs}
              onSelect={toBucket([LLM_CALLS_LINK, "ttft_ms:gte:0"])}
            />
          )}
        </Card>

        <Card
          title="Errors by type"
          subtitle={`Failed calls (status error) by error type; ${sourceNote(errors.data?.source, errors.data?.truncated)}`}
          className="span-6"
          loading={errors.isPending}
          error={errors.error}
          retry={() => void errors.refetch()}
          empty={errorItems.length === 0}
          emptyText={noCalls ? undefined : "No failed calls in this range."}
        >
          <TopList
            label="Errors by type"
            items={errorItems}
            format={formatCount}
            onSelect={(key) =>
              toEvents(
                present(LLM_CALLS_LINK, "status:eq:error", keyFilter("error_type", key, errorItems.map((i) => i.key))),
              )
            }
          />
        </Card>

        <Card
          title="Slowest applications"
          subtitle={`p95 latency by application; ${sourceNote(assets.data?.source)}`}
          className="span-6"
          loading={assets.isPending}
          error={assets.error}
          retry={() => void assets.refetch()}
          empty={assetItems.length === 0}
        >
          <TopList
            label="Slowest applications by p95 latency"
            items={assetItems}
            format={formatMs}
            onSelect={(key) =>
              toEvents(
                present(
                  LLM_CALLS_LINK,
                  keyFilter("asset_id", key, (assets.data?.rows ?? []).map((r) => (r.asset_id ?? null) as string | null)),
                ),
              )
            }
          />
        </Card>

        <Card
          title="Slowest models"
          subtitle={`p95 latency by model; ${sourceNote(byModel.data?.source)}`}
          className="span-6"
          loading={byModel.isPending}
          error={byModel.error}
          retry={() => void byModel.refetch()}
          empty={modelItems.length === 0}
        >
          <TopList
            label="Slowest models by p95 latency"
            items={modelItems}
            format={formatMs}
            onSelect={(key) =>
              toEvents(
                present(
                  LLM_CALLS_LINK,
                  keyFilter("model_id", key, (byModel.data?.rows ?? []).map((r) => (r.model_id ?? null) as string | null)),
                ),
              )
            }
          />
        </Card>
      </div>
    </>
  );
}
