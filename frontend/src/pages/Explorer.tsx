// The events explorer: filter the raw events of a time range (filters and range live in
// the URL, so a view can be shared), page through them newest first, watch new ones arrive
// over the live feed, and open any event in full.
import { useInfiniteQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { ApiError, fetchEvents } from "../api/client";
import type { EventEnvelope, EventPage } from "../api/types";
import { PageHeader } from "../components/Layout";
import { Empty, ErrorState, Loading } from "../components/States";
import { TimeRangePicker } from "../components/TimeRangePicker";
import { describeRange } from "../lib/time";
import { LiveBadge, useLive } from "../live/useLive";
import { useRange } from "../state/useRange";
import { EventDrawer } from "./explorer/EventDrawer";
import { EventList } from "./explorer/EventList";
import { combineRows, inRange, mergeLive } from "./explorer/events";
import { FilterBuilder } from "./explorer/FilterBuilder";
import { addFilter, filtersFromParams, removeFilterAt, toTypedFilters, withFilters } from "./explorer/filters";

const PAGE_SIZE = 100;

interface LiveRows {
  key: string;
  rows: EventEnvelope[];
  dropped: number;
  trimmed: number;
}

export default function Explorer() {
  const state = useRange();
  const { spec, range } = state;
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => filtersFromParams(params), [params]);
  const filtersKey = JSON.stringify(filters);
  const selected = params.get("event");

  const setFilters = (next: string[]) => setParams((p) => withFilters(p, next));

  const query = useInfiniteQuery({
    queryKey: ["events", range.from, range.to, filters],
    queryFn: ({ pageParam, signal }) =>
      fetchEvents({ from: range.from, to: range.to, filters, cursor: pageParam, limit: PAGE_SIZE }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last: EventPage) => last.next_cursor ?? null,
    // A refresh of the same filters keeps the rows on screen; other filters start afresh.
    placeholderData: (previous, previousQuery) =>
      previousQuery && JSON.stringify(previousQuery.queryKey[3]) === filtersKey ? previous : undefined,
  });

  const pages = useMemo(
    () => (query.data?.pages ?? []).map((p) => p.events as unknown as EventEnvelope[]),
    [query.data],
  );
  const fetchedIds = useMemo(() => new Set(pages.flat().map((e) => e.event_id)), [pages]);
  const badRequest = query.error instanceof ApiError && query.error.status === 400 ? query.error : null;

  // The live feed: on by default for a range that ends now; only with filters it can
  // apply exactly as the list does (any filter it cannot read, and it stays off).
  const listKey = `${spec.kind === "relative" ? spec.last : `${spec.from}/${spec.to}`}|${filtersKey}`;
  const [liveChoice, setLiveChoice] = useState<boolean | null>(null);
  const liveOn = liveChoice ?? spec.kind === "relative";
  const typed = useMemo(() => toTypedFilters(JSON.parse(filtersKey) as string[]), [filtersKey]);
  const liveActive = liveOn && typed !== null && !badRequest;
  const [liveState, setLiveState] = useState<LiveRows>({ key: listKey, rows: [], dropped: 0, trimmed: 0 });
  const live: LiveRows = liveState.key === listKey ? liveState : { key: listKey, rows: [], dropped: 0, trimmed: 0 };

  const liveStatus = useLive(liveActive, typed ?? [], {
    onEvents: (batch) => {
      const to = spec.kind === "absolute" ? range.to : null;
      const wanted = batch.filter((e) => inRange(e, range.from, to));
      if (wanted.length === 0) return;
      setLiveState((s) => {
        const base = s.key === listKey ? s : { key: listKey, rows: [], dropped: 0, trimmed: 0 };
        const merged = mergeLive(base.rows, wanted, fetchedIds);
        return { ...base, rows: merged.rows, trimmed: base.trimmed + merged.trimmed };
      });
    },
    onDropped: (count) => {
      if (count <= 0) return;
      setLiveState((s) => {
        const base = s.key === listKey ? s : { key: listKey, rows: [], dropped: 0, trimmed: 0 };
        return { ...base, dropped: base.dropped + count };
      });
    },
  });

  const rows = useMemo(() => combineRows(live.rows, pages), [live.rows, pages]);
  const liveIds = useMemo(() => new Set(live.rows.map((e) => e.event_id)), [live.rows]);

  const refreshAll = () => {
    setLiveState({ key: listKey, rows: [], dropped: 0, trimmed: 0 });
    if (spec.kind === "relative") state.refreshNow();
    else void query.refetch();
  };

  // Infinite scroll: a sentinel under the table loads the next page when it comes into
  // view; the "Load more" button does the same for keyboards and without the observer.
  const sentinel = useRef<HTMLDivElement>(null);
  const loadMore = useRef(() => {});
  loadMore.current = () => {
    if (query.hasNextPage && !query.isFetchingNextPage && !query.isFetchNextPageError) void query.fetchNextPage();
  };
  const pageCount = pages.length;
  useEffect(() => {
    const el = sentinel.current;
    if (!el || typeof IntersectionObserver === "undefined") return;
    // Re-observing after every page fires again if the sentinel is still in view.
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) loadMore.current();
    }, { rootMargin: "0px 0px 400px 0px" });
    observer.observe(el);
    return () => observer.disconnect();
  }, [pageCount, rows.length > 0]);

  // The open event lives in the URL (`event=<id>`); closing returns focus to its row.
  const open = (id: string) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        next.set("event", id);
        return next;
      },
      { replace: true },
    );
  const close = useCallback(() => {
    const id = selected;
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        next.delete("event");
        return next;
      },
      { replace: true },
    );
    window.setTimeout(() => {
      const row = [...document.querySelectorAll<HTMLElement>('[data-testid="explorer-row"]')].find(
        (r) => r.dataset.eventId === id,
      );
      (row ?? document.getElementById("main"))?.focus();
    }, 0);
  }, [selected, setParams]);

  const filterFromDrawer = (filter: string) => {
    setParams(
      (p) => {
        const next = withFilters(p, addFilter(filtersFromParams(p), filter));
        next.delete("event");
        return next;
      },
      { replace: false },
    );
  };

  const loading = query.isPending && !query.data;
  const hasNext = Boolean(query.hasNextPage);
  const emptyNow = !loading && !query.error && rows.length === 0 && !hasNext;

  return (
    <>
      <PageHeader title="Events">
        <label className="explorer-live-toggle">
          <input
            type="checkbox"
            role="switch"
            checked={liveOn}
            onChange={(e) => setLiveChoice(e.target.checked)}
          />
          Live
        </label>
        {liveActive && <LiveBadge {...liveStatus} />}
        {liveOn && !liveActive && (
          <span className="explorer-live-paused" role="status">
            Live paused: fix the filters first
          </span>
        )}
        <TimeRangePicker state={state} />
      </PageHeader>

      <FilterBuilder
        filters={filters}
        onAdd={(f) => setFilters(addFilter(filters, f))}
        onRemove={(i) => setFilters(removeFilterAt(filters, i))}
        onClear={() => setFilters([])}
        error={badRequest ?? undefined}
      />

      {live.dropped > 0 && (
        <div className="explorer-notice" role="status">
          <span>
            {live.dropped.toLocaleString()} {live.dropped === 1 ? "event was" : "events were"} not shown live; refresh to see them.
          </span>
          <button type="button" onClick={refreshAll}>
            Refresh
          </button>
        </div>
      )}
      {live.trimmed > 0 && (
        <div className="explorer-notice" role="status">
          <span>Only the newest {live.rows.length.toLocaleString()} live events are kept; refresh to list the others.</span>
          <button type="button" onClick={refreshAll}>
            Refresh
          </button>
        </div>
      )}

      <section className="card explorer-results" aria-labelledby="explorer-results-title">
        <header className="card-header">
          <div>
            <h2 className="card-title" id="explorer-results-title">
              Matching events
            </h2>
            <div className="card-subtitle">
              {describeRange(spec)} · newest first
              {rows.length > 0 && (
                <>
                  {" "}
                  · {rows.length.toLocaleString()} shown{hasNext ? ", more to load" : ""}
                </>
              )}
              {query.isFetching && !query.isFetchingNextPage && !loading && " · updating…"}
            </div>
          </div>
        </header>
        <div className="card-body">
          {badRequest ? (
            <Empty>The hub refused the filters (see the message above): change or remove the filter it names.</Empty>
          ) : query.error && !query.data ? (
            <ErrorState error={query.error} retry={() => void query.refetch()} />
          ) : loading ? (
            <Loading label="Loading events…" />
          ) : emptyNow ? (
            <Empty>
              No events match{filters.length > 0 ? " these filters" : ""} in this time range ({describeRange(spec).toLowerCase()}).{" "}
              {filters.length > 0 ? "Remove a filter or widen the time range." : "Widen the time range, or send events (make run starts a demo generator)."}{" "}
              <span className="explorer-empty-actions">
                {filters.length > 0 && (
                  <button type="button" className="link-button" onClick={() => setFilters([])}>
                    Remove all filters
                  </button>
                )}
                {!(spec.kind === "relative" && spec.last === "30d") && (
                  <button type="button" className="link-button" onClick={() => state.setSpec({ kind: "relative", last: "30d" })}>
                    Show the last 30 days
                  </button>
                )}
              </span>
            </Empty>
          ) : (
            <>
              <EventList rows={rows} liveIds={liveIds} onOpen={open} selectedId={selected} />
              <div ref={sentinel} className="explorer-sentinel" aria-hidden="true" />
              <div className="explorer-more">
                {query.isFetchNextPageError ? (
                  <ErrorState error={query.error} retry={() => void query.fetchNextPage()} />
                ) : hasNext ? (
                  <button type="button" onClick={() => loadMore.current()} aria-disabled={query.isFetchingNextPage}>
                    {query.isFetchingNextPage ? "Loading more…" : "Load more"}
                  </button>
                ) : (
                  <span className="filter-hint">All {rows.length.toLocaleString()} events of this range are listed.</span>
                )}
              </div>
            </>
          )}
        </div>
      </section>

      {selected && (
        <EventDrawer
          key={selected}
          id={selected}
          initial={rows.find((e) => e.event_id === selected)}
          onClose={close}
          onFilter={filterFromDrawer}
        />
      )}
    </>
  );
}
