import { lazy, Suspense } from "react";
import { Navigate, Route, Routes } from "react-router-dom";
import { Layout } from "./components/Layout";
import { Loading } from "./components/States";
import { Overview } from "./pages/Overview";
import { SignIn } from "./pages/SignIn";
import { useSession } from "./state/session";

// Everything but the first page loads on demand, to keep the first page small.
const Cost = lazy(() => import("./pages/Cost"));
const Performance = lazy(() => import("./pages/Performance"));
const Security = lazy(() => import("./pages/Security"));
const Explorer = lazy(() => import("./pages/Explorer"));
const Dashboards = lazy(() => import("./pages/Dashboards"));
const DashboardView = lazy(() => import("./pages/DashboardView"));

export function App() {
  const apiKey = useSession((s) => s.apiKey);
  if (!apiKey) return <SignIn />;
  return (
    <Layout>
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route path="/" element={<Overview />} />
          <Route path="/cost" element={<Cost />} />
          <Route path="/performance" element={<Performance />} />
          <Route path="/security" element={<Security />} />
          <Route path="/explorer" element={<Explorer />} />
          <Route path="/dashboards" element={<Dashboards />} />
          <Route path="/dashboards/:id" element={<DashboardView />} />
          <Route path="*" element={<Navigate to="/" replace />} />
        </Routes>
      </Suspense>
    </Layout>
  );
}
