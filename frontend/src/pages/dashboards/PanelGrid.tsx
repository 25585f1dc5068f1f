// The 12-column grid (react-grid-layout v2): drag by a panel's header and resize by its
// corner in edit mode. Narrow screens get the panels stacked instead, in grid order.
import { useMemo, type ReactNode, type RefObject } from "react";
import ReactGridLayout, { useContainerWidth, verticalCompactor, type Layout } from "react-grid-layout";
import { GRID_COLUMNS, type Panel } from "./model";
import { MIN_H, MIN_W } from "./layout";

export const ROW_HEIGHT = 40;
export const MARGIN = 14;
const NARROW = 720;

export function panelPixels(h: number): number {
  return h * ROW_HEIGHT + (h - 1) * MARGIN;
}

interface Props {
  panels: Panel[];
  editing: boolean;
  onLayoutChange: (layout: Layout) => void;
  children: (panel: Panel) => ReactNode;
}

export function PanelGrid({ panels, editing, onLayoutChange, children }: Props) {
  const { width, containerRef, mounted } = useContainerWidth();
  const layout = useMemo(
    () => panels.map((p) => ({ i: p.id, ...p.layout, minW: MIN_W, minH: MIN_H })),
    [panels],
  );
  const narrow = width < NARROW;
  const stacked = useMemo(
    () => [...panels].sort((a, b) => a.layout.y - b.layout.y || a.layout.x - b.layout.x),
    [panels],
  );
  return (
    <div ref={containerRef as RefObject<HTMLDivElement>} className={`dash-grid-wrap ${editing ? "dash-editing" : ""}`}>
      {!mounted ? null : narrow ? (
        <div className="dash-stack">
          {stacked.map((p) => (
            <div key={p.id} className="dash-item" data-testid="dashboard-panel" style={{ height: panelPixels(p.layout.h) }}>
              {children(p)}
            </div>
          ))}
        </div>
      ) : (
        <ReactGridLayout
          width={width}
          layout={layout}
          gridConfig={{ cols: GRID_COLUMNS, rowHeight: ROW_HEIGHT, margin: [MARGIN, MARGIN], containerPadding: [0, 0] }}
          dragConfig={{ enabled: editing, handle: ".dash-panel-header", cancel: "button, a, input, select, textarea" }}
          resizeConfig={{ enabled: editing, handles: ["se"] }}
          compactor={verticalCompactor}
          onLayoutChange={onLayoutChange}
        >
          {panels.map((p) => (
            <div key={p.id} className="dash-item" data-testid="dashboard-panel">
              {children(p)}
            </div>
          ))}
        </ReactGridLayout>
      )}
    </div>
  );
}
