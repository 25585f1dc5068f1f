// One saved dashboard (/dashboards/:id): its panels on a 12-column grid over the range in
// the URL (so that the address reproduces the view), and in edit mode: add, edit, arrange
// and resize panels (by mouse, or by the keyboard's buttons), then save with the version
// read (a 409 means someone else saved it since).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import type { Layout } from "react-grid-layout";
import "react-grid-layout/css/styles.css";
import "react-resizable/css/styles.css";
import { Link, useLocation, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { ApiError } from "../api/client";
import { PageHeader } from "../components/Layout";
import { Empty, ErrorState, Loading } from "../components/States";
import { TimeRangePicker } from "../components/TimeRangePicker";
import { bucketLink } from "../lib/links";
import { withRange } from "../lib/time";
import { useRange, type RangeState } from "../state/useRange";
import { describeError, downloadJson, getDashboard, saveDashboard } from "./dashboards/api";
import { applyGridLayout, describeLayout, placePanel, stepPanel, stepTarget, type Move } from "./dashboards/layout";
import {
  blankPanel,
  bucketOf,
  buildQuery,
  documentOf,
  duplicatePanel,
  explainSaveError,
  exportFileName,
  formatFilterLines,
  MAX_PANELS,
  refreshForDocument,
  sameDocument,
  specFromTimeRange,
  timeRangeFromSpec,
  type Dashboard,
  type Panel,
} from "./dashboards/model";
import { PanelEditor } from "./dashboards/PanelEditor";
import { PanelFrame } from "./dashboards/PanelFrame";
import { panelPixels, PanelGrid } from "./dashboards/PanelGrid";

/** Header and padding of a panel, and (in edit mode) its row of arrange buttons. */
const CHROME = 58;
const ARRANGE = 36;

export default function DashboardView() {
  const { id = "" } = useParams();
  // A fresh screen per dashboard: no draft carried from one to another.
  return <DashboardScreen key={id} id={id} />;
}

interface Conflict {
  message: string;
}

function DashboardScreen({ id }: { id: string }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const loaded = useQuery({
    queryKey: ["dashboard", id],
    queryFn: ({ signal }) => getDashboard(id, signal),
    staleTime: Infinity,
    refetchOnMount: "always",
  });

  const [saved, setSaved] = useState<Dashboard | null>(null);
  const [draft, setDraft] = useState<Dashboard | null>(null);
  const [editing, setEditing] = useState<boolean>(() => (location.state as { edit?: boolean } | null)?.edit === true);
  const [editor, setEditor] = useState<{ panel: Panel; isNew: boolean } | null>(null);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const addButton = useRef<HTMLButtonElement>(null);

  // The document as first read; the URL gets its range unless it has one (a shared link).
  useEffect(() => {
    // Wait for the read on mount: a cached copy may be older than the hub's.
    if (!loaded.data || saved || loaded.isFetching) return;
    setSaved(loaded.data);
    setDraft(loaded.data);
  }, [loaded.data, loaded.isFetching, saved]);
  const hasRange = params.has("range") || (params.has("from") && params.has("to"));
  useEffect(() => {
    if (!saved || hasRange) return;
    setParams(
      (p) => {
        const next = withRange(p, specFromTimeRange(saved.time_range));
        if (saved.refresh_seconds && !next.has("refresh")) next.set("refresh", String(saved.refresh_seconds));
        return next;
      },
      { replace: true },
    );
  }, [saved, hasRange, setParams]);

  const rangeState = useRange();
  const { range, spec } = rangeState;
  const refreshSeconds = spec.kind === "relative" ? rangeState.refreshSeconds : 0;

  const dirty = draft !== null && saved !== null && !sameDocument(draft, saved);
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const update = useCallback((change: (d: Dashboard) => Dashboard) => {
    setDraft((d) => (d ? change(d) : d));
    setSaveError(null);
  }, []);
  const setPanels = useCallback(
    (change: (panels: Panel[]) => Panel[]) =>
      update((d) => {
        const panels = change(d.panels);
        return panels === d.panels ? d : { ...d, panels };
      }),
    [update],
  );

  // In edit mode the range and refresh picked are the dashboard's own (saved with it).
  const pickerState: RangeState = {
    ...rangeState,
    setSpec: (next) => {
      rangeState.setSpec(next);
      if (editing) update((d) => ({ ...d, time_range: timeRangeFromSpec(next) }));
    },
    setRefresh: (seconds) => {
      rangeState.setRefresh(seconds);
      if (editing) update((d) => ({ ...d, refresh_seconds: refreshForDocument(seconds) }));
    },
    refreshNow: () => {
      rangeState.refreshNow();
      void client.invalidateQueries({ queryKey: ["dashboard-panel"] });
    },
  };

  const save = async () => {
    if (!draft || !saved || saving) return;
    if (!draft.name.trim()) {
      setEditing(true);
      setSaveError("Not saved: give the dashboard a name (Dashboard name, above the panels).");
      return;
    }
    const sent = documentOf(draft);
    setSaving(true);
    setSaveError(null);
    try {
      const result = await saveDashboard(id, sent, saved.version);
      setSaved(result);
      setDraft((current) => (current && sameDocument(current, sent) ? result : current));
      client.setQueryData(["dashboard", id], result);
      void client.invalidateQueries({ queryKey: ["dashboards"] });
      setConflict(null);
      setAnnouncement(`Saved "${result.name}" (version ${result.version}).`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        setConflict({ message: error.message });
      } else if (error instanceof ApiError && error.status === 400) {
        setSaveError(`Not saved: ${explainSaveError(error.message, draft.panels)}`);
      } else {
        setSaveError(`Not saved. ${describeError(error, "save dashboards")}`);
      }
    } finally {
      setSaving(false);
    }
  };

  /** Throw away the local changes and read the dashboard again. */
  const reload = async () => {
    setConflict(null);
    setSaveError(null);
    try {
      const fresh = await getDashboard(id);
      client.setQueryData(["dashboard", id], fresh);
      setSaved(fresh);
      setDraft(fresh);
      setAnnouncement(`Reloaded "${fresh.name}" at version ${fresh.version}.`);
    } catch (error) {
      setSaveError(`Could not reload. ${describeError(error)}`);
    }
  };

  /** Keep my version: save it over the one saved since. */
  const overwrite = async () => {
    if (!draft) return;
    try {
      const latest = await getDashboard(id);
      setSaved((s) => (s ? { ...s, version: latest.version } : s));
      setConflict(null);
      const sent = documentOf(draft);
      const result = await saveDashboard(id, sent, latest.version);
      setSaved(result);
      setDraft((current) => (current && sameDocument(current, sent) ? result : current));
      client.setQueryData(["dashboard", id], result);
      void client.invalidateQueries({ queryKey: ["dashboards"] });
      setAnnouncement(`Saved "${result.name}" over the other version (now version ${result.version}).`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) setConflict({ message: error.message });
      else setSaveError(`Not saved. ${describeError(error, "save dashboards")}`);
    }
  };

  const exportJson = () => {
    if (!draft) return;
    // The document as it is on screen, unsaved changes included: an import takes it as is.
    downloadJson(exportFileName(draft.name), {
      ...documentOf(draft),
      id: draft.id,
      version: saved?.version ?? draft.version,
      created_at: draft.created_at,
      updated_at: draft.updated_at,
    });
  };

  const [copied, setCopied] = useState(false);
  const copyLink = async () => {
    try {
      await navigator.clipboard.writeText(window.location.href);
      setCopied(true);
      setAnnouncement("Link copied: it opens this dashboard over this time range.");
      window.setTimeout(() => setCopied(false), 2000);
    } catch {
      setAnnouncement("Could not copy: copy the address from the address bar.");
    }
  };

  const move = (panel: Panel, step: Move) => {
    if (!draft) return;
    const next = stepPanel(draft.panels, panel.id, step);
    if (next === draft.panels) return;
    setPanels(() => next);
    const moved = next.find((p) => p.id === panel.id);
    if (moved) setAnnouncement(`${panel.title || "Untitled panel"}: ${describeLayout(moved.layout)}.`);
  };

  const remove = (panel: Panel) => {
    setPanels((panels) => panels.filter((p) => p.id !== panel.id));
    setAnnouncement(`Removed panel ${panel.title || "Untitled panel"}. Discard changes to get it back.`);
    window.setTimeout(() => addButton.current?.focus(), 0);
  };

  const applyEditor = (panel: Panel) => {
    const current = editor;
    setEditor(null);
    if (!current) return;
    setPanels((panels) => {
      const others = current.isNew ? panels : panels.map((p) => (p.id === panel.id ? panel : p));
      const all = current.isNew ? [...others, panel] : others;
      return placePanel(all, panel.id, panel.layout);
    });
    setAnnouncement(current.isNew ? `Added panel ${panel.title || "Untitled panel"}.` : `Updated panel ${panel.title || "Untitled panel"}.`);
  };

  const openEvents = (bucket: string, panel: Panel) => {
    const typed = buildQuery(panel, range);
    const filters = formatFilterLines(panel.query.filters).split("\n").filter(Boolean);
    navigate(bucketLink(bucket, bucketOf({ group_by: typed.group_by }) ?? range.bucket, filters));
  };

  const onLayoutChange = (layout: Layout) => {
    if (editing) setPanels((panels) => applyGridLayout(panels, layout));
  };

  if (loaded.error && !saved) {
    const notFound = loaded.error instanceof ApiError && loaded.error.status === 404;
    return (
      <>
        <PageHeader title={notFound ? "Dashboard not found" : "Dashboard"} />
        {notFound ? (
          <Empty>
            There is no dashboard with this address for your tenant: it may have been deleted, or the
            link belongs to another tenant. <Link to="/dashboards">See all dashboards</Link>.
          </Empty>
        ) : (
          <ErrorState error={loaded.error} retry={() => void loaded.refetch()} />
        )}
      </>
    );
  }
  if (!draft || !saved || !hasRange) return <Loading label="Loading the dashboard…" />;

  const panels = draft.panels;
  const bodyHeight = (p: Panel) => panelPixels(p.layout.h) - CHROME - (editing ? ARRANGE : 0);
  const frame = (p: Panel) => (
    <PanelFrame
      panel={p}
      editing={editing}
      range={range}
      refreshSeconds={refreshSeconds}
      bodyHeight={bodyHeight(p)}
      canMove={(step) => stepTarget(panels, p.id, step) !== null}
      onMove={(step) => move(p, step)}
      onEdit={() => setEditor({ panel: p, isNew: false })}
      onDuplicate={() => {
        setPanels((all) => placePanel(duplicatePanel(all, p.id), p.id, p.layout));
        setAnnouncement(`Duplicated panel ${p.title || "Untitled panel"}.`);
      }}
      onRemove={() => remove(p)}
      onSelectBucket={openEvents}
    />
  );

  return (
    <>
      <p className="dash-back">
        <Link to="/dashboards">← All dashboards</Link>
      </p>
      <PageHeader title={draft.name || "Untitled dashboard"}>
        {dirty && (
          <span className="dash-dirty" data-testid="unsaved-changes">
            <span aria-hidden="true">● </span>Unsaved changes
          </span>
        )}
        <TimeRangePicker state={pickerState} />
        <button type="button" onClick={() => setEditing((e) => !e)} data-testid="toggle-edit">
          {editing ? "Done editing" : "Edit"}
        </button>
        {editing && (
          <button
            type="button"
            ref={addButton}
            data-testid="add-panel"
            onClick={() => setEditor({ panel: blankPanel(panels), isNew: true })}
            disabled={panels.length >= MAX_PANELS}
            title={panels.length >= MAX_PANELS ? `A dashboard holds at most ${MAX_PANELS} panels.` : undefined}
          >
            Add panel
          </button>
        )}
        <button type="button" className="primary" data-testid="save-dashboard" onClick={() => void save()} disabled={!dirty || saving}>
          {saving ? "Saving…" : "Save"}
        </button>
        {dirty && (
          <button type="button" onClick={() => setDraft(saved)}>
            Discard changes
          </button>
        )}
        <button type="button" onClick={exportJson} data-testid="export-dashboard">
          Export JSON
        </button>
        <button type="button" onClick={() => void copyLink()}>
          {copied ? "Link copied" : "Copy link"}
        </button>
      </PageHeader>

      <div className="sr-only" role="status" aria-live="polite">
        {announcement}
      </div>

      {conflict && (
        <div className="dash-banner dash-banner-bad" role="alert">
          <p>
            <strong>Someone else saved this dashboard since you opened it.</strong> Reload to get their
            version (your unsaved changes here are lost; export them first to keep a copy), or save yours
            over theirs.
          </p>
          <p className="dash-hint">{conflict.message}</p>
          <div className="dash-row">
            <button type="button" className="primary" onClick={() => void reload()}>
              Reload their version
            </button>
            <button type="button" onClick={exportJson}>
              Export my version
            </button>
            <button type="button" onClick={() => void overwrite()}>
              Save mine over theirs
            </button>
          </div>
        </div>
      )}
      {saveError && (
        <div className="dash-banner dash-banner-bad" role="alert">
          <p>{saveError}</p>
        </div>
      )}

      {editing ? (
        <div className="dash-editbar">
          <label className="dash-field">
            <span>Dashboard name</span>
            <input value={draft.name} maxLength={200} onChange={(e) => update((d) => ({ ...d, name: e.target.value }))} aria-invalid={!draft.name.trim()} />
          </label>
          <label className="dash-field dash-grow">
            <span>Description</span>
            <input
              value={draft.description ?? ""}
              maxLength={2000}
              onChange={(e) => update((d) => ({ ...d, description: e.target.value || null }))}
            />
          </label>
          <p className="dash-hint">
            Drag a panel by its header and resize it by its bottom-right corner, or use its arrow buttons.
            The time range and auto-refresh picked while editing are saved with the dashboard.
          </p>
        </div>
      ) : (
        draft.description && <p className="dash-description">{draft.description}</p>
      )}

      {panels.length === 0 ? (
        <Empty>
          This dashboard has no panels yet.{" "}
          {editing ? (
            "Choose Add panel to add one."
          ) : (
            <button type="button" className="link-button" onClick={() => setEditing(true)}>
              Edit the dashboard to add panels.
            </button>
          )}
        </Empty>
      ) : (
        <PanelGrid panels={panels} editing={editing} onLayoutChange={onLayoutChange}>
          {frame}
        </PanelGrid>
      )}

      {editor && (
        <PanelEditor
          initial={editor.panel}
          isNew={editor.isNew}
          range={range}
          onApply={applyEditor}
          onCancel={() => setEditor(null)}
        />
      )}
    </>
  );
}
