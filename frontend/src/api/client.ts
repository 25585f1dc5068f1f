// The one place the UI talks HTTP to the hub: same origin, the session's API key, and the
// hub's error envelope turned into an ApiError whose message can be shown as is.
import { useSession } from "../state/session";
import type { EventPage, Overview, QueryResult, TypedQuery } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface ErrorEnvelope {
  error?: { code?: string; message?: string };
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const key = useSession.getState().apiKey;
  const headers = new Headers(init.headers);
  if (key) headers.set("Authorization", `Bearer ${key}`);
  if (init.body !== undefined) headers.set("Content-Type", "application/json");
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch {
    throw new ApiError(0, "network", "The hub cannot be reached. Is `analytics-hub serve` running?");
  }
  if (response.status === 401) {
    // The key was revoked or mistyped: back to sign-in, saying why.
    useSession.getState().signOut("Your API key was not accepted. Sign in again.");
  }
  if (!response.ok) {
    let body: ErrorEnvelope = {};
    try {
      body = (await response.json()) as ErrorEnvelope;
    } catch {
      // not JSON: keep the status line below
    }
    throw new ApiError(
      response.status,
      body.error?.code ?? "http_error",
      body.error?.message ?? `${response.status} ${response.statusText}`,
    );
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export function runQuery(query: TypedQuery, signal?: AbortSignal): Promise<QueryResult> {
  return api<QueryResult>("/api/v1/query", {
    method: "POST",
    body: JSON.stringify(query),
    signal,
  });
}

export function fetchOverview(
  from: string,
  to: string,
  bucket: string,
  signal?: AbortSignal,
): Promise<Overview> {
  const params = new URLSearchParams({ from, to, bucket });
  return api<Overview>(`/api/v1/metrics/overview?${params}`, { signal });
}

export function fetchEvents(
  params: { from: string; to: string; filters: string[]; cursor?: string | null; limit?: number },
  signal?: AbortSignal,
): Promise<EventPage> {
  const search = new URLSearchParams({ from: params.from, to: params.to });
  for (const f of params.filters) search.append("filter", f);
  if (params.cursor) search.set("cursor", params.cursor);
  search.set("limit", String(params.limit ?? 100));
  return api<EventPage>(`/api/v1/events?${search}`, { signal });
}

/** Checks a key by asking for something every reading role may see. */
export async function checkKey(key: string): Promise<void> {
  const response = await fetch("/api/v1/schema", {
    headers: { Authorization: `Bearer ${key}` },
  }).catch(() => {
    throw new ApiError(0, "network", "The hub cannot be reached.");
  });
  if (response.status === 401 || response.status === 403) {
    throw new ApiError(response.status, "unauthorized", "This API key is not valid for reading.");
  }
  if (!response.ok) throw new ApiError(response.status, "http_error", response.statusText);
}
