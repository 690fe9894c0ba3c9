// The REST API's route table. Each area's routes (routes/*.ts) register themselves here with what
// the OpenAPI document says about them — request body and query schemas, response description —
// so a route and its documentation are written once, in the same place.
import type { ApiDeps } from './api-deps.ts';

export interface ApiRequest {
  method: string;
  /** Path after the /api/v1 prefix, e.g. /exec/status/abc. */
  path: string;
  query: Record<string, string | undefined>;
  body?: unknown;
  /** Request headers, lower-case names (HTTP shells that have them). */
  headers?: Record<string, string | undefined>;
}

export type Params = Record<string, string>;
export type Handler = (deps: ApiDeps, req: ApiRequest, params: Params) => Promise<unknown> | unknown;

/**
 * A JSON Schema (for the OpenAPI document; the router checks request bodies against it), or a
 * reference to one of its components (checked by the operation's own validator), optionally "or
 * an array of them".
 */
export type SchemaRef = { ref: string; orArray?: boolean } | { schema: object };

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** With `{name}` path parameters. */
  path: string;
  handler: Handler;
  /** Success status (default 200). */
  status?: number;
  summary: string;
  /** The request body, documented (JSON unless `bodyMediaType` says otherwise). */
  body?: SchemaRef;
  /** multipart/form-data: the body reaches the handler as a MultipartForm (api/multipart.ts). */
  bodyMediaType?: 'multipart/form-data';
  /** Query parameters: name → description. */
  query?: Record<string, string>;
  /** The success response body, documented (default: any JSON). */
  response?: SchemaRef;
  /** The success response's media type (default application/json). */
  contentType?: string;
  /**
   * A POST that changes nothing (it waits, or reads): answered like a GET, without waiting for the
   * sync of writes other requests made (the router holds every other change's answer for it).
   */
  readOnly?: boolean;
}

export interface Route extends RouteSpec {
  status: number;
  pattern: RegExp;
  keys: string[];
}

const table: Route[] = [];
/** routesMatching's memory: path → the routes matching it (cleared when a route is added). */
const matches = new Map<string, readonly Route[]>();
const REMEMBERED_PATHS = 256;

export function route(spec: RouteSpec): void {
  const keys: string[] = [];
  const pattern = new RegExp(
    `^${spec.path.replace(/\{(\w+)\}/g, (_m, k: string) => {
      keys.push(k);
      return '([^/]+)';
    })}/?$`,
  );
  table.push({ ...spec, status: spec.status ?? 200, pattern, keys });
  matches.clear();
}

/**
 * The routes whose pattern matches a path, remembered for the paths seen last: a client following
 * a job sends the same path again and again (`sluice make` adds and waits ~1,000 times for 2,000
 * recipes), and testing every pattern each time showed in its profiles.
 */
export function routesMatching(path: string): readonly Route[] {
  let found = matches.get(path);
  if (!found) {
    found = table.filter((r) => r.pattern.test(path));
    if (matches.size >= REMEMBERED_PATHS) matches.clear();
    matches.set(path, found);
  }
  return found;
}

export function routes(): readonly Route[] {
  return table;
}
