// The tenant's saved dashboards: open, create (with example panels, never blank), import
// an exported JSON file, export, and delete after a confirmation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useRef, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { PageHeader } from "../components/Layout";
import { Empty, ErrorState, Loading } from "../components/States";
import {
  createDashboard,
  deleteDashboard,
  describeError,
  downloadJson,
  getDashboard,
  listDashboards,
  readFileText,
} from "./dashboards/api";
import { Dialog } from "./dashboards/Dialog";
import { exportFileName, newDashboardDocument, parseImport, type DashboardSummary } from "./dashboards/model";

function when(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString();
}

export default function Dashboards() {
  const client = useQueryClient();
  const navigate = useNavigate();
  const inputId = useId();
  const fileInput = useRef<HTMLInputElement>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [confirming, setConfirming] = useState<DashboardSummary | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  const list = useQuery({ queryKey: ["dashboards"], queryFn: ({ signal }) => listDashboards(signal) });

  const create = useMutation({
    mutationFn: () => createDashboard(newDashboardDocument(uniqueName(list.data?.items ?? []))),
    onSuccess: (created) => {
      void client.invalidateQueries({ queryKey: ["dashboards"] });
      client.setQueryData(["dashboard", created.id], created);
      navigate(`/dashboards/${encodeURIComponent(created.id)}`, { state: { edit: true } });
    },
    onError: (error) => setProblem(`Could not create a dashboard. ${describeError(error, "create dashboards")}`),
  });

  const importFile = useMutation({
    mutationFn: async (file: File) => {
      const parsed = parseImport(await readFileText(file));
      if (!parsed.ok) throw new Error(parsed.error);
      return createDashboard(parsed.value);
    },
    onSuccess: (created) => {
      void client.invalidateQueries({ queryKey: ["dashboards"] });
      client.setQueryData(["dashboard", created.id], created);
      navigate(`/dashboards/${encodeURIComponent(created.id)}`);
    },
    onError: (error) => setProblem(`Could not import this file. ${describeError(error, "import dashboards")}`),
    onSettled: () => {
      if (fileInput.current) fileInput.current.value = "";
    },
  });

  const remove = useMutation({
    mutationFn: (item: DashboardSummary) => deleteDashboard(item.id),
    onSuccess: (_, item) => {
      setConfirming(null);
      setStatus(`Deleted "${item.name}".`);
      client.removeQueries({ queryKey: ["dashboard", item.id] });
      void client.invalidateQueries({ queryKey: ["dashboards"] });
    },
    onError: (error) => {
      setConfirming(null);
      setProblem(`Could not delete. ${describeError(error, "delete dashboards")}`);
    },
  });

  const exportOne = async (item: DashboardSummary) => {
    setProblem(null);
    try {
      const doc = await getDashboard(item.id);
      downloadJson(exportFileName(doc.name), doc);
      setStatus(`Exported "${doc.name}".`);
    } catch (error) {
      setProblem(`Could not export "${item.name}". ${describeError(error)}`);
    }
  };

  const items = list.data?.items ?? [];
  const busy = create.isPending || importFile.isPending;

  return (
    <>
      <PageHeader title="Dashboards">
        <button
          type="button"
          className="primary"
          data-testid="new-dashboard"
          onClick={() => {
            setProblem(null);
            create.mutate();
          }}
          disabled={busy}
        >
          {create.isPending ? "Creating…" : "New dashboard"}
        </button>
        {/* A button-looking label around a visually hidden (still focusable) file input. */}
        <label htmlFor={inputId} className={`dash-file-label ${busy ? "dash-disabled" : ""}`}>
          {importFile.isPending ? "Importing…" : "Import JSON file"}
          <input
            id={inputId}
            ref={fileInput}
            type="file"
            accept=".json,application/json"
            className="sr-only"
            data-testid="import-dashboard"
            disabled={busy}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (!file) return;
              setProblem(null);
              importFile.mutate(file);
            }}
          />
        </label>
      </PageHeader>

      <div className="sr-only" role="status" aria-live="polite">
        {status}
        {importFile.isPending ? "Importing…" : ""}
      </div>
      {problem && (
        <div className="dash-banner dash-banner-bad" role="alert">
          <p>{problem}</p>
          <button type="button" className="link-button" onClick={() => setProblem(null)}>
            Dismiss
          </button>
        </div>
      )}

      {list.error ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : !list.data ? (
        <Loading label="Loading dashboards…" />
      ) : items.length === 0 ? (
        <Empty>
          No dashboards yet. Choose <strong>New dashboard</strong> to start one with example panels
          (requests, latency, cost), or import a dashboard exported as JSON.
        </Empty>
      ) : (
        <ul className="dash-list" aria-label="Saved dashboards">
          {items.map((item) => (
            <li key={item.id} className="dash-list-item card" data-testid="dashboard-list-item">
              <div>
                <Link to={`/dashboards/${encodeURIComponent(item.id)}`} className="dash-list-name">
                  {item.name}
                </Link>
                <div className="dash-hint">Changed {when(item.updated_at)}</div>
              </div>
              <div className="dash-row">
                <button type="button" onClick={() => void exportOne(item)} aria-label={`Export ${item.name} as JSON`}>
                  Export
                </button>
                <button type="button" onClick={() => setConfirming(item)} aria-label={`Delete ${item.name}`} data-testid="delete-dashboard">
                  Delete
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}

      {confirming && (
        <Dialog
          title="Delete this dashboard?"
          onClose={() => setConfirming(null)}
          initialFocus={cancelRef}
          testId="confirm-delete"
          footer={
            <>
              <button type="button" ref={cancelRef} onClick={() => setConfirming(null)}>
                Cancel
              </button>
              <button
                type="button"
                className="dash-danger"
                onClick={() => remove.mutate(confirming)}
                disabled={remove.isPending}
                data-testid="confirm-delete-button"
              >
                {remove.isPending ? "Deleting…" : "Delete"}
              </button>
            </>
          }
        >
          <p>
            “{confirming.name}” will be deleted for everyone in your tenant. This cannot be undone;
            export it first to keep a copy.
          </p>
        </Dialog>
      )}
    </>
  );
}

/** "New dashboard", or "New dashboard 2", … when taken. */
function uniqueName(items: DashboardSummary[]): string {
  const taken = new Set(items.map((i) => i.name));
  if (!taken.has("New dashboard")) return "New dashboard";
  for (let n = 2; ; n++) if (!taken.has(`New dashboard ${n}`)) return `New dashboard ${n}`;
}
