// A panel on the dashboard: its title, in edit mode its tools (edit, duplicate, remove, and
// the keyboard's move and resize buttons), and its content.
import type { ResolvedRange } from "../../lib/time";
import type { Move } from "./layout";
import type { Panel } from "./model";
import { PanelBody } from "./Panel";

const MOVES: { move: Move; symbol: string; words: string }[] = [
  { move: "left", symbol: "←", words: "left" },
  { move: "right", symbol: "→", words: "right" },
  { move: "up", symbol: "↑", words: "up" },
  { move: "down", symbol: "↓", words: "down" },
];
const SIZES: { move: Move; symbol: string; words: string }[] = [
  { move: "narrower", symbol: "⇤", words: "narrower" },
  { move: "wider", symbol: "⇥", words: "wider" },
  { move: "shorter", symbol: "⤒", words: "shorter" },
  { move: "taller", symbol: "⤓", words: "taller" },
];

interface Props {
  panel: Panel;
  editing: boolean;
  range: ResolvedRange;
  refreshSeconds: number;
  /** Pixels of content below the header. */
  bodyHeight: number;
  canMove: (move: Move) => boolean;
  onMove: (move: Move) => void;
  onEdit: () => void;
  onDuplicate: () => void;
  onRemove: () => void;
  onSelectBucket?: (bucket: string, panel: Panel) => void;
}

export function PanelFrame(props: Props) {
  const { panel, editing, range, refreshSeconds, bodyHeight, canMove, onMove } = props;
  const title = panel.title || "Untitled panel";
  const tool = ({ move, symbol, words }: { move: Move; symbol: string; words: string }) => {
    const possible = canMove(move);
    const label = move === "left" || move === "right" || move === "up" || move === "down" ? `Move ${title} ${words}` : `Make ${title} ${words}`;
    return (
      // aria-disabled, not disabled: the button keeps focus when the panel reaches an edge.
      <button
        key={move}
        type="button"
        className="dash-icon-button"
        aria-label={label}
        title={label}
        aria-disabled={!possible}
        onClick={() => possible && onMove(move)}
      >
        <span aria-hidden="true">{symbol}</span>
      </button>
    );
  };
  return (
    <section className="card dash-panel" aria-label={title}>
      <div className="dash-panel-header">
        {editing && (
          <span className="dash-drag-handle" aria-hidden="true" title="Drag to move; drag the bottom-right corner to resize">
            ⠿
          </span>
        )}
        <h2 className="card-title dash-panel-title">{title}</h2>
        {editing && (
          <div className="dash-panel-actions">
            <button type="button" className="dash-small" onClick={props.onEdit} aria-label={`Edit panel ${title}`}>
              Edit
            </button>
            <button type="button" className="dash-small" onClick={props.onDuplicate} aria-label={`Duplicate panel ${title}`}>
              Duplicate
            </button>
            <button type="button" className="dash-small" onClick={props.onRemove} aria-label={`Remove panel ${title}`}>
              Remove
            </button>
          </div>
        )}
      </div>
      {editing && (
        <div className="dash-arrange" role="group" aria-label={`Move or resize ${title}`}>
          <span className="dash-arrange-label" aria-hidden="true">
            Move
          </span>
          {MOVES.map(tool)}
          <span className="dash-arrange-label" aria-hidden="true">
            Size
          </span>
          {SIZES.map(tool)}
        </div>
      )}
      <div className="dash-panel-body">
        <PanelBody
          panel={panel}
          range={range}
          refreshSeconds={refreshSeconds}
          height={bodyHeight}
          onSelectBucket={editing ? undefined : props.onSelectBucket}
        />
      </div>
    </section>
  );
}
