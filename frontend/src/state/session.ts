// The signed-in API key (kept for the browser session only) and the theme.
import { create } from "zustand";

const KEY_ITEM = "hub.apiKey";
const THEME_ITEM = "hub.theme";

export type Theme = "light" | "dark";

interface SessionState {
  apiKey: string | null;
  notice: string | null;
  theme: Theme;
  signIn: (key: string) => void;
  signOut: (notice?: string) => void;
  toggleTheme: () => void;
}

function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_ITEM);
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export const useSession = create<SessionState>((set, get) => ({
  apiKey: sessionStorage.getItem(KEY_ITEM),
  notice: null,
  theme: initialTheme(),
  signIn: (key) => {
    sessionStorage.setItem(KEY_ITEM, key);
    set({ apiKey: key, notice: null });
  },
  signOut: (notice) => {
    sessionStorage.removeItem(KEY_ITEM);
    set({ apiKey: null, notice: notice ?? null });
  },
  toggleTheme: () => {
    const theme: Theme = get().theme === "dark" ? "light" : "dark";
    localStorage.setItem(THEME_ITEM, theme);
    set({ theme });
  },
}));
