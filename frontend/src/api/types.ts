// Names for the API's shapes, taken from the types generated from the OpenAPI document.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Overview = Schemas["Overview"];
export type OverviewPoint = Schemas["OverviewPoint"];
export type OverviewTotals = Schemas["OverviewTotals"];
export type TopItem = Schemas["TopItem"];
export type QueryResult = Schemas["QueryResult"];
export type TypedQuery = Schemas["Query"];
export type QueryFilter = Schemas["Filter"];
export type Aggregate = Schemas["Aggregate"];
export type EventPage = Schemas["EventPage"];
export type Bucket = Overview["bucket"];

/** One stored event as the API renders it: the envelope as sent, plus what the hub added. */
export interface EventEnvelope {
  event_id: string;
  timestamp: string;
  source_module: string;
  event_type: string;
  severity: string;
  environment?: string | null;
  asset_id?: string | null;
  correlation_id?: string | null;
  parent_event_id?: string | null;
  trace_id?: string | null;
  span_id?: string | null;
  schema_version?: string | null;
  tags?: Record<string, string>;
  /** ``data`` holds ``<payload_type>_type`` (the subtype) and the normalised fields. */
  payload?: { payload_type?: string | null; data?: Record<string, unknown> | null };
  hub?: {
    received_at?: string | null;
    skew_ms?: number | null;
    cost_source?: string | null;
    cost_usd?: number | null;
  };
}

export interface Filter {
  field: string;
  op: string;
  value: unknown;
}

export type QueryRow = Record<string, unknown>;
