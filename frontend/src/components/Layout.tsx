// The frame of every signed-in page: navigation, the theme switch, and the page itself.
import { useEffect, type ReactNode } from "react";
import { NavLink, useLocation } from "react-router-dom";
import { useSession } from "../state/session";

const PAGES = [
  { to: "/", label: "Overview" },
  { to: "/cost", label: "Cost" },
  { to: "/performance", label: "Performance" },
  { to: "/security", label: "Security & compliance" },
  { to: "/explorer", label: "Events" },
  { to: "/dashboards", label: "Dashboards" },
];

export function Layout({ children }: { children: ReactNode }) {
  const { theme, toggleTheme, signOut } = useSession();
  const location = useLocation();
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  // Keep the time range and refresh when moving between pages.
  const carried = new URLSearchParams(location.search);
  const keep = new URLSearchParams();
  for (const k of ["range", "from", "to", "refresh"]) {
    const v = carried.get(k);
    if (v) keep.set(k, v);
  }
  const suffix = keep.toString() ? `?${keep}` : "";
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">LLM Analytics Hub</div>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.to}>
                <NavLink to={`${p.to}${suffix}`} end={p.to === "/"}>
                  {p.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar-actions">
          <button type="button" onClick={toggleTheme} aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}>
            {theme === "dark" ? "☀" : "☾"}
          </button>
          <button type="button" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · LLM Analytics Hub`;
  }, [title]);
  return (
    <div className="page-header">
      <h1>{title}</h1>
      <div className="page-header-tools">{children}</div>
    </div>
  );
}
