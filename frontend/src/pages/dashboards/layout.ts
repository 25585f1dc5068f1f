// Panels on the 12-column grid: compaction as react-grid-layout does it, and the moves the
// keyboard buttons make (drag and resize are mouse-only). Pure, unit-tested.
import { verticalCompactor, type Layout as GridLayoutItems } from "react-grid-layout/core";
import { GRID_COLUMNS, type Panel, type PanelLayout } from "./model";

export const MIN_W = 2;
export const MIN_H = 3;
export const MAX_H = 100;

export type Move = "left" | "right" | "up" | "down" | "wider" | "narrower" | "taller" | "shorter";

/** ``layout`` made to fit the grid: whole numbers, inside the 12 columns, at least min size. */
export function clampLayout(layout: PanelLayout): PanelLayout {
  const int = (n: number, fallback: number) => (Number.isFinite(n) ? Math.round(n) : fallback);
  const w = Math.min(GRID_COLUMNS, Math.max(1, int(layout.w, 6)));
  const x = Math.min(GRID_COLUMNS - w, Math.max(0, int(layout.x, 0)));
  const y = Math.max(0, int(layout.y, 0));
  const h = Math.min(MAX_H, Math.max(1, int(layout.h, 8)));
  return { x, y, w, h };
}

function overlaps(a: PanelLayout, b: PanelLayout): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function sameLayout(a: PanelLayout, b: PanelLayout): boolean {
  return a.x === b.x && a.y === b.y && a.w === b.w && a.h === b.h;
}

/** Panels floated up as far as they go, in react-grid-layout's vertical compaction. The
 * same array comes back when nothing moved. */
export function compact(panels: Panel[]): Panel[] {
  const items: GridLayoutItems = panels.map((p) => ({ i: p.id, ...clampLayout(p.layout) }));
  const out = verticalCompactor.compact(items, GRID_COLUMNS);
  const byId = new Map(out.map((item) => [item.i, item]));
  let changed = false;
  const next = panels.map((p) => {
    const item = byId.get(p.id);
    if (!item) return p;
    const layout = { x: item.x, y: item.y, w: item.w, h: item.h };
    if (sameLayout(layout, p.layout)) return p;
    changed = true;
    return { ...p, layout };
  });
  return changed ? next : panels;
}

/** ``panels`` with the grid's layout (from react-grid-layout's onLayoutChange) applied;
 * the same array when nothing changed, so that a re-render is not an edit. */
export function applyGridLayout(panels: Panel[], items: readonly { i: string; x: number; y: number; w: number; h: number }[]): Panel[] {
  const byId = new Map(items.map((item) => [item.i, item]));
  let changed = false;
  const next = panels.map((p) => {
    const item = byId.get(p.id);
    if (!item) return p;
    const layout = { x: item.x, y: item.y, w: item.w, h: item.h };
    if (sameLayout(layout, p.layout)) return p;
    changed = true;
    return { ...p, layout };
  });
  return changed ? next : panels;
}

/** ``panels`` with panel ``id`` put at ``target``: the panels it lands on move down out of
 * its way, then everything floats up (what dragging does). */
export function placePanel(panels: Panel[], id: string, target: PanelLayout): Panel[] {
  const moving = panels.find((p) => p.id === id);
  if (!moving) return panels;
  const fixed = clampLayout(target);
  const placed: PanelLayout[] = [fixed];
  const others = panels
    .filter((p) => p.id !== id)
    .map((p) => ({ id: p.id, layout: clampLayout(p.layout) }))
    .sort((a, b) => a.layout.y - b.layout.y || a.layout.x - b.layout.x);
  const moved = new Map<string, PanelLayout>([[id, fixed]]);
  for (const other of others) {
    const layout = { ...other.layout };
    for (;;) {
      const hit = placed.filter((p) => overlaps(p, layout));
      if (hit.length === 0) break;
      layout.y = Math.max(...hit.map((p) => p.y + p.h));
    }
    placed.push(layout);
    moved.set(other.id, layout);
  }
  const next = panels.map((p) => {
    const layout = moved.get(p.id) as PanelLayout;
    return sameLayout(layout, p.layout) ? p : { ...p, layout };
  });
  return compact(next);
}

/** Overlapping columns of ``a`` and ``b``. */
function sharesColumns(a: PanelLayout, b: PanelLayout): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w;
}

/** Where one keyboard step takes the panel; null when it cannot go that way. Up and down
 * swap places with the nearest panel above or below (the grid floats panels up, so one
 * row down would float straight back). */
export function stepTarget(panels: Panel[], id: string, move: Move): PanelLayout | null {
  const panel = panels.find((p) => p.id === id);
  if (!panel) return null;
  const l = clampLayout(panel.layout);
  switch (move) {
    case "left":
      return l.x > 0 ? { ...l, x: l.x - 1 } : null;
    case "right":
      return l.x + l.w < GRID_COLUMNS ? { ...l, x: l.x + 1 } : null;
    case "wider":
      if (l.w >= GRID_COLUMNS) return null;
      return l.x + l.w < GRID_COLUMNS ? { ...l, w: l.w + 1 } : { ...l, x: l.x - 1, w: l.w + 1 };
    case "narrower":
      return l.w > MIN_W ? { ...l, w: l.w - 1 } : null;
    case "taller":
      return l.h < MAX_H ? { ...l, h: l.h + 1 } : null;
    case "shorter":
      return l.h > MIN_H ? { ...l, h: l.h - 1 } : null;
    case "up": {
      const above = panels
        .filter((p) => p.id !== id && sharesColumns(p.layout, l) && p.layout.y < l.y)
        .sort((a, b) => b.layout.y - a.layout.y)[0];
      return above ? { ...l, y: above.layout.y } : null;
    }
    case "down": {
      const below = panels
        .filter((p) => p.id !== id && sharesColumns(p.layout, l) && p.layout.y > l.y)
        .sort((a, b) => a.layout.y - b.layout.y)[0];
      return below ? { ...l, y: below.layout.y + below.layout.h } : null;
    }
  }
}

/** One keyboard step, or the same array when the panel cannot go that way. */
export function stepPanel(panels: Panel[], id: string, move: Move): Panel[] {
  const target = stepTarget(panels, id, move);
  return target ? placePanel(panels, id, target) : panels;
}

/** Words for a screen reader after a move: "column 3, row 1, 6 wide, 8 high". */
export function describeLayout(layout: PanelLayout): string {
  return `column ${layout.x + 1}, row ${layout.y + 1}, ${layout.w} wide, ${layout.h} high`;
}
