// Sign-in with an API key, kept for this browser session only.
import { useState, type FormEvent } from "react";
import { checkKey } from "../api/client";
import { useSession } from "../state/session";

export function SignIn() {
  const { signIn, notice } = useSession();
  const [key, setKey] = useState("");
  const [problem, setProblem] = useState<string | null>(notice);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setProblem("Enter an API key.");
      return;
    }
    setBusy(true);
    try {
      await checkKey(trimmed);
      signIn(trimmed);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <form className="signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">LLM Analytics Hub</h1>
        <p>
          Sign in with an API key. Create one with <code>analytics-hub keys create</code>; the
          demo (<code>make run</code>) prints one when it starts.
        </p>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          autoFocus
        />
        {problem && (
          <p role="alert" className="inline-error">
            {problem}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        <p className="fine-print">The key is kept in this tab until you sign out or close it.</p>
      </form>
    </main>
  );
}
