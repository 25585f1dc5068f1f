import type { ReactNode } from "react";
import { Empty, ErrorState, Loading } from "./States";

interface CardProps {
  title: string;
  subtitle?: ReactNode;
  actions?: ReactNode;
  loading?: boolean;
  error?: unknown;
  empty?: boolean;
  emptyText?: ReactNode;
  retry?: () => void;
  className?: string;
  children?: ReactNode;
}

/** A titled panel that handles its own loading, error and empty states. */
export function Card(props: CardProps) {
  const { title, subtitle, actions, loading, error, empty, emptyText, retry, className } = props;
  let body: ReactNode = props.children;
  if (error) body = <ErrorState error={error} retry={retry} />;
  else if (loading) body = <Loading />;
  else if (empty) body = <Empty>{emptyText}</Empty>;
  return (
    <section className={`card ${className ?? ""}`} aria-label={title}>
      <header className="card-header">
        <div>
          <h2 className="card-title">{title}</h2>
          {subtitle && <div className="card-subtitle">{subtitle}</div>}
        </div>
        {actions && <div className="card-actions">{actions}</div>}
      </header>
      <div className="card-body">{body}</div>
    </section>
  );
}

export function Stat({
  label,
  value,
  hint,
  tone,
}: {
  label: string;
  value: string;
  hint?: ReactNode;
  tone?: "warn" | "bad";
}) {
  return (
    <div className={`stat ${tone ? `stat-${tone}` : ""}`} data-testid={`stat-${label}`}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}
