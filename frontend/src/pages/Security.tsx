// Security & compliance: threats by type, severity and over time, blocked or not; policy
// decisions and violations by policy; compliance checks by framework.
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useNavigate } from "react-router-dom";
import type { QueryFilter } from "../api/types";
import { Card, Stat } from "../components/Card";
import { HeatMap } from "../components/HeatMap";
import { PageHeader } from "../components/Layout";
import { TimeRangePicker } from "../components/TimeRangePicker";
import { TimeSeriesChart } from "../components/TimeSeriesChart";
import { TopList } from "../components/TopList";
import { formatCount, formatPercent } from "../lib/format";
import { bucketLink, explorerLink } from "../lib/links";
import { bucketStarts, fillBuckets, pivot } from "../lib/shape";
import { bucketMs, type ResolvedRange } from "../lib/time";
import { useRange } from "../state/useRange";
import { keyFilter, present } from "./shared/filters";
import { formatCountAxis } from "./shared/format";
import { eq, fetchRows, sourceNote, typedQuery } from "./shared/query";
import {
  blockedSplit,
  bySeverity,
  complianceTable,
  countBy,
  heatBucket,
  heatRows,
  policyTable,
  threatTotals,
  type FrameworkRow,
  type PolicyRow,
} from "./security/shape";

const THREATS: QueryFilter[] = [eq("payload_type", "security"), eq("payload_subtype", "threat")];
const THREAT_LINKS = ["payload_type:eq:security", "payload_subtype:eq:threat"];
const VIOLATIONS: QueryFilter[] = [eq("payload_type", "governance"), eq("payload_subtype", "policy_violation")];
const VIOLATION_LINKS = ["payload_type:eq:governance", "payload_subtype:eq:policy_violation"];
const CHECKS: QueryFilter[] = [eq("payload_type", "governance"), eq("payload_subtype", "compliance_check")];
const CHECK_LINKS = ["payload_type:eq:governance", "payload_subtype:eq:compliance_check"];
const COUNT = { fn: "count", as: "n" } as const;

function rangeKey(range: ResolvedRange) {
  return [range.from, range.to, range.bucket] as const;
}

export default function Security() {
  const state = useRange();
  const { range } = state;
  const navigate = useNavigate();
  const span = Date.parse(range.to) - Date.parse(range.from);
  const heat = heatBucket(span, range.bucket);
  const starts = useMemo(
    () => bucketStarts(range.from, range.to, bucketMs(range.bucket)),
    [range.from, range.to, range.bucket],
  );
  const heatStarts = useMemo(() => bucketStarts(range.from, range.to, bucketMs(heat)), [range.from, range.to, heat]);

  const threats = useQuery({
    queryKey: ["security", "threats", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: THREATS,
          groupBy: ["payload.threat_type", "payload.threat_level", "payload.mitigation_status"],
          aggregates: [COUNT],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });
  const threatHeat = useQuery({
    queryKey: ["security", "threat-heat", heat, ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: THREATS,
          groupBy: [{ bucket: heat }, "payload.threat_type"],
          aggregates: [COUNT],
        }),
        signal,
      ).then((r) => ({ ...r, heat })),
    placeholderData: (prev) => prev,
  });
  const blocked = useQuery({
    queryKey: ["security", "blocked", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: THREATS,
          groupBy: [{ bucket: range.bucket }, "payload.mitigation_status"],
          aggregates: [COUNT],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });
  const decisions = useQuery({
    queryKey: ["security", "decisions", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: [{ field: "tags.decision", op: "ne", value: null }],
          groupBy: ["tags.decision"],
          aggregates: [COUNT],
          orderBy: [{ field: "n", direction: "desc" }],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });
  const policies = useQuery({
    queryKey: ["security", "policies", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: VIOLATIONS,
          groupBy: ["payload.policy_id", "payload.policy_name", "payload.auto_remediated"],
          aggregates: [COUNT],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });
  const policyTime = useQuery({
    queryKey: ["security", "policy-time", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: VIOLATIONS,
          groupBy: [{ bucket: range.bucket }, "payload.policy_name"],
          aggregates: [COUNT],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });
  const checks = useQuery({
    queryKey: ["security", "checks", ...rangeKey(range)],
    queryFn: ({ signal }) =>
      fetchRows(
        typedQuery(range, {
          filters: CHECKS,
          groupBy: ["payload.framework", "payload.passed"],
          aggregates: [COUNT, { fn: "avg", field: "payload.score", as: "score" }],
        }),
        signal,
      ),
    placeholderData: (prev) => prev,
  });

  const threatRows = threats.data?.rows;
  const totals = useMemo(() => (threatRows ? threatTotals(threatRows) : null), [threatRows]);
  const byType = useMemo(() => countBy(threatRows ?? [], "payload.threat_type"), [threatRows]);
  const byLevel = useMemo(() => bySeverity(countBy(threatRows ?? [], "payload.threat_level")), [threatRows]);
  const heatData = useMemo(() => {
    const data = threatHeat.data;
    if (!data) return null;
    const stepStarts = data.heat === heat ? heatStarts : bucketStarts(range.from, range.to, bucketMs(data.heat));
    return heatRows(data.rows, stepStarts, "payload.threat_type");
  }, [threatHeat.data, heat, heatStarts, range.from, range.to]);
  const blockedData = useMemo(() => (blocked.data ? blockedSplit(blocked.data.rows, starts) : null), [blocked.data, starts]);
  const decisionItems = useMemo(() => countBy(decisions.data?.rows ?? [], "tags.decision"), [decisions.data]);
  const policyRows = useMemo(() => policyTable(policies.data?.rows ?? []), [policies.data]);
  const policyChart = useMemo(() => {
    if (!policyTime.data) return null;
    const wide = pivot(policyTime.data.rows, "payload.policy_name", "n", 8);
    return { ...wide, data: fillBuckets(wide.data, starts, wide.series.map((s) => s.key), 0) };
  }, [policyTime.data, starts]);
  const frameworks = useMemo(() => complianceTable(checks.data?.rows ?? []), [checks.data]);
  const violationCount = policyRows.reduce((s, r) => s + r.violations, 0);
  const checkCount = frameworks.reduce((s, r) => s + r.checks, 0);
  const failedChecks = frameworks.reduce((s, r) => s + r.failed, 0);

  const toBucket = (filters: string[]) => (bucket: string) => navigate(bucketLink(bucket, range.bucket, filters));
  const toEvents = (filters: string[]) => navigate(explorerLink({ from: range.from, to: range.to, filters }));
  const threatItem = (field: string, items: { key: string | null }[]) => (key: string | null) =>
    toEvents(present(...THREAT_LINKS, keyFilter(field, key, items.map((i) => i.key))));

  return (
    <>
      <PageHeader title="Security & compliance">
        <TimeRangePicker state={state} />
      </PageHeader>

      <div className="stats" aria-label="Totals">
        <Stat label="Threats" value={formatCount(totals?.total)} />
        <Stat
          label="Blocked"
          value={formatCount(totals?.blocked)}
          hint={totals && totals.total > 0 ? `${formatPercent(totals.blocked / totals.total)} of threats` : undefined}
        />
        <Stat
          label="Critical or high"
          value={formatCount(totals?.severe)}
          tone={totals && totals.severe > 0 ? "bad" : undefined}
          hint={totals && totals.total > 0 ? `${formatPercent(totals.severe / totals.total)} of threats` : undefined}
        />
        <Stat label="Policy violations" value={formatCount(policies.data ? violationCount : null)} />
        <Stat
          label="Failed compliance checks"
          value={formatCount(checks.data ? failedChecks : null)}
          tone={failedChecks > 0 ? "warn" : undefined}
          hint={checks.data ? `of ${formatCount(checkCount)} checks` : undefined}
        />
      </div>

      <div className="grid">
        <Card
          title="Threats: blocked or not"
          subtitle={`Blocked against detected, mitigated and the rest, per bucket; ${sourceNote(blocked.data?.source, blocked.data?.truncated)}`}
          className="span-8"
          loading={blocked.isPending}
          error={blocked.error}
          retry={() => void blocked.refetch()}
          empty={!blocked.data || blocked.data.rows.length === 0}
          emptyText="No threats detected in this range."
        >
          {blockedData && (
            <TimeSeriesChart
              label="Threats over time, blocked and not blocked"
              data={blockedData as unknown as Record<string, unknown>[]}
              series={[
                { key: "blocked", label: "blocked" },
                { key: "not_blocked", label: "not blocked (detected, mitigated, …)" },
              ]}
              kind="stacked_bar"
              spanMs={span}
              format={formatCountAxis}
              onSelect={toBucket(THREAT_LINKS)}
            />
          )}
        </Card>

        <Card
          title="Threats by type"
          subtitle={sourceNote(threats.data?.source)}
          className="span-4"
          loading={threats.isPending}
          error={threats.error}
          retry={() => void threats.refetch()}
          empty={byType.length === 0}
          emptyText="No threats detected in this range."
        >
          <TopList
            label="Threats by type"
            items={byType}
            format={formatCount}
            onSelect={threatItem("payload.threat_type", byType)}
          />
        </Card>

        <Card
          title="Threats by type over time"
          subtitle={`Count per ${heat} (darker is more; hover a cell for its count); ${sourceNote(threatHeat.data?.source, threatHeat.data?.truncated)}`}
          className="span-8"
          loading={threatHeat.isPending}
          error={threatHeat.error}
          retry={() => void threatHeat.refetch()}
          empty={!threatHeat.data || threatHeat.data.rows.length === 0}
          emptyText="No threats detected in this range."
        >
          {heatData && (
            <HeatMap
              rows={heatData}
              dimension="payload.threat_type"
              value="n"
              spanMs={span}
              label={`Threats by type per ${heat}`}
              format={(v) => `${formatCount(v)} threats`}
              onSelect={(bucket, type) =>
                navigate(bucketLink(bucket, heat, [...THREAT_LINKS, `payload.threat_type:eq:${type}`]))
              }
            />
          )}
        </Card>

        <Card
          title="Threats by severity"
          subtitle="Threat level, most severe first"
          className="span-4"
          loading={threats.isPending}
          error={threats.error}
          retry={() => void threats.refetch()}
          empty={byLevel.length === 0}
          emptyText="No threats detected in this range."
        >
          <TopList
            label="Threats by severity"
            items={byLevel}
            format={formatCount}
            onSelect={threatItem("payload.threat_level", byLevel)}
          />
        </Card>

        <Card
          title="Policy violations over time"
          subtitle={`By policy: the top 8, the rest as (other); ${sourceNote(policyTime.data?.source, policyTime.data?.truncated)}`}
          className="span-8"
          loading={policyTime.isPending}
          error={policyTime.error}
          retry={() => void policyTime.refetch()}
          empty={!policyChart || policyChart.series.length === 0}
          emptyText="No policy violations in this range."
        >
          {policyChart && (
            <TimeSeriesChart
              label="Policy violations over time by policy"
              data={policyChart.data}
              series={policyChart.series}
              kind="stacked_bar"
              spanMs={span}
              format={formatCountAxis}
              onSelect={toBucket(VIOLATION_LINKS)}
            />
          )}
        </Card>

        <Card
          title="Policy decisions"
          subtitle={`Events with a decision tag, by decision; ${sourceNote(decisions.data?.source)}`}
          className="span-4"
          loading={decisions.isPending}
          error={decisions.error}
          retry={() => void decisions.refetch()}
          empty={decisionItems.length === 0}
          emptyText="No policy decisions in this range."
        >
          <TopList
            label="Policy decisions"
            items={decisionItems}
            format={formatCount}
            onSelect={(key) => toEvents(present(keyFilter("tags.decision", key, decisionItems.map((i) => i.key))))}
          />
        </Card>

        <Card
          title="Violations by policy"
          subtitle={sourceNote(policies.data?.source, policies.data?.truncated)}
          className="span-6"
          loading={policies.isPending}
          error={policies.error}
          retry={() => void policies.refetch()}
          empty={policyRows.length === 0}
          emptyText="No policy violations in this range."
        >
          <PolicyTable
            rows={policyRows}
            onSelect={(row) =>
              toEvents(
                present(
                  ...VIOLATION_LINKS,
                  row.policyId !== null
                    ? `payload.policy_id:eq:${row.policyId}`
                    : keyFilter("payload.policy_name", row.policyName, policyRows.map((r) => r.policyName)),
                ),
              )
            }
          />
        </Card>

        <Card
          title="Compliance checks by framework"
          subtitle={sourceNote(checks.data?.source, checks.data?.truncated)}
          className="span-6"
          loading={checks.isPending}
          error={checks.error}
          retry={() => void checks.refetch()}
          empty={frameworks.length === 0}
          emptyText="No compliance checks in this range."
        >
          <ComplianceTable
            rows={frameworks}
            onSelect={(row, failedOnly) =>
              toEvents(
                present(
                  ...CHECK_LINKS,
                  keyFilter("payload.framework", row.framework, frameworks.map((r) => r.framework)),
                  failedOnly ? "payload.passed:eq:false" : null,
                ),
              )
            }
          />
        </Card>
      </div>
    </>
  );
}

function PolicyTable({ rows, onSelect }: { rows: PolicyRow[]; onSelect: (row: PolicyRow) => void }) {
  return (
    <table className="data">
      <caption className="sr-only">Policy violations by policy, with how many were remediated automatically</caption>
      <thead>
        <tr>
          <th scope="col">Policy</th>
          <th scope="col">ID</th>
          <th scope="col" className="num">
            Violations
          </th>
          <th scope="col" className="num">
            Auto-remediated
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={`${row.policyId}|${row.policyName}`}>
            <th scope="row">
              <button type="button" className="link-button" onClick={() => onSelect(row)}>
                {row.policyName ?? "(unnamed)"}
              </button>
            </th>
            <td>
              <code>{row.policyId ?? "–"}</code>
            </td>
            <td className="num">{formatCount(row.violations)}</td>
            <td className="num">
              {formatCount(row.autoRemediated)} ({formatPercent(row.violations ? row.autoRemediated / row.violations : 0)})
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ComplianceTable({
  rows,
  onSelect,
}: {
  rows: FrameworkRow[];
  onSelect: (row: FrameworkRow, failedOnly: boolean) => void;
}) {
  return (
    <table className="data">
      <caption className="sr-only">Compliance checks by framework: passed, failed and average score</caption>
      <thead>
        <tr>
          <th scope="col">Framework</th>
          <th scope="col" className="num">
            Checks
          </th>
          <th scope="col" className="num">
            Passed
          </th>
          <th scope="col" className="num">
            Failed
          </th>
          <th scope="col" className="num">
            Avg score
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.framework ?? "(none)"}>
            <th scope="row">
              <button type="button" className="link-button" onClick={() => onSelect(row, false)}>
                {row.framework ?? "(none)"}
              </button>
            </th>
            <td className="num">{formatCount(row.checks)}</td>
            <td className="num">{formatCount(row.passed)}</td>
            <td className={`num ${row.failed > 0 ? "csp-bad" : ""}`}>
              {row.failed > 0 ? (
                <button
                  type="button"
                  className="link-button csp-bad"
                  onClick={() => onSelect(row, true)}
                >
                  <span aria-hidden="true">✗ </span>
                  {formatCount(row.failed)} failed
                  <span className="sr-only"> {row.framework ?? ""} checks</span>
                </button>
              ) : (
                <>
                  <span aria-hidden="true">✓ </span>none failed
                </>
              )}
            </td>
            <td className="num">{row.score === null ? "–" : formatPercent(row.score)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
