// A ranked list with proportional bars: the "top N by X" panels.
export interface TopEntry {
  key: string | null;
  value: number;
}

export function TopList({
  items,
  format,
  label,
  onSelect,
}: {
  items: TopEntry[];
  format: (v: number) => string;
  label: string;
  onSelect?: (key: string | null) => void;
}) {
  const max = Math.max(...items.map((i) => Math.abs(i.value)), 0) || 1;
  return (
    <table className="toplist" aria-label={label}>
      <tbody>
        {items.map((item) => (
          <tr key={item.key ?? "(none)"}>
            <th scope="row">
              {onSelect ? (
                <button type="button" className="link-button" onClick={() => onSelect(item.key)}>
                  {item.key ?? "(none)"}
                </button>
              ) : (
                (item.key ?? "(none)")
              )}
            </th>
            <td className="toplist-bar-cell">
              <div className="toplist-bar" style={{ width: `${(Math.abs(item.value) / max) * 100}%` }} />
            </td>
            <td className="num">{format(item.value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
