// The REST API as one framework-free router: (method, path, query, body) -> (status, body).
// `sluice serve` puts it behind node:http; the AWS api function puts it behind API Gateway.
import { SluiceError, ValidationError } from '../errors.ts';
import { MultipartForm } from './multipart.ts';
import { bodyValidatorsModule, checkBody } from './request-body.ts';
import { type ApiRequest, type Params, type Route, routes, routesMatching } from './route-table.ts';
import './routes/index.ts';
import type { SluiceService } from './service.ts';

export type { ApiRequest } from './route-table.ts';

export interface ApiResponse {
  status: number;
  body: unknown;
}

export const API_PREFIX = '/api/v1';

/** The statuses of the error types answered without a SluiceError (the HTTP shells use them too). */
const STATUS_OF_TYPE: Readonly<Record<string, number>> = {
  INVALID_JSON: 400,
  INVALID_BODY: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  BUSY: 503,
};

export interface ErrorBody {
  error: {
    /** The HTTP status, as in HKube's error body. */
    code: number;
    message: string;
    /** Sluice's stable, machine-readable code (`INVALID_PIPELINE`, `JOB_NOT_FOUND`...). */
    type: string;
    /** The offending field of a rejected request or descriptor, when known. */
    field?: string;
  };
}

/** HKube's error shape, `{error: {code: <HTTP status>, message}}`, with Sluice's code as `type`. */
export function errorBody(
  type: string,
  message: string,
  status = STATUS_OF_TYPE[type] ?? 500,
  field?: string,
): ErrorBody {
  return { error: { code: status, message, type, ...(field ? { field } : {}) } };
}

export async function handleApi(service: SluiceService, req: ApiRequest): Promise<ApiResponse> {
  const pathMatches = routesMatching(req.path);
  const r = pathMatches.find((x) => x.method === req.method);
  if (!r) {
    if (pathMatches.length) {
      return {
        status: 405,
        body: errorBody('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}`, 405),
      };
    }
    return {
      status: 404,
      body: errorBody('NOT_FOUND', `no API route ${req.method} ${API_PREFIX}${req.path}`, 404),
    };
  }
  const m = r.pattern.exec(req.path) as RegExpExecArray;
  const params: Params = Object.create(null);
  for (const [i, k] of r.keys.entries()) {
    const raw = m[i + 1] ?? '';
    try {
      params[k] = decodeURIComponent(raw);
    } catch {
      return {
        status: 400,
        body: errorBody(
          'INVALID_PATH',
          `${k} "${raw}" in the path is not valid percent-encoded UTF-8`,
          400,
          k,
        ),
      };
    }
  }
  const multipart = r.bodyMediaType === 'multipart/form-data';
  if (req.body instanceof MultipartForm !== multipart && (multipart || req.body !== undefined)) {
    const message = multipart
      ? `${req.method} ${API_PREFIX}${r.path} takes multipart/form-data`
      : `${req.method} ${API_PREFIX}${r.path} takes a JSON body (Content-Type: application/json), not multipart/form-data`;
    return { status: 415, body: errorBody('UNSUPPORTED_MEDIA_TYPE', message, 415) };
  }
  try {
    // The documented body is the checked body: unknown fields, types and required fields are 400
    // before the operation looks anything up. (Pipeline and algorithm bodies are checked by their
    // own validators, which say more.)
    if (r.body && 'schema' in r.body && !multipart) checkBody(r.body.schema, req.body, routeName(r));
    const body = await r.handler(service.deps, req, params);
    // Acknowledged means durable: a change is answered only once it is committed.
    if (req.method !== 'GET' && !r.readOnly) await service.deps.durable?.();
    return { status: r.status, body };
  } catch (err) {
    if (err instanceof SluiceError && (err.status < 500 || err.status === 501)) {
      const field = err instanceof ValidationError ? err.field : undefined;
      return { status: err.status, body: errorBody(err.code, err.message, err.status, field) };
    }
    const e = err as Error;
    return { status: 500, body: errorBody('INTERNAL', e?.message ?? String(err), 500) };
  }
}

/** How checkBody names a route (in its messages, and its body validator's name). */
function routeName(r: Route): string {
  return `${r.method} ${r.path}`;
}

/** Build time: the body validators of every route with a JSON body schema (request-body.ts). */
export function routeBodyValidatorsModule(): { file: string; code: string } {
  const schemas: Record<string, object> = {};
  for (const r of routes()) {
    if (r.body && 'schema' in r.body && r.bodyMediaType !== 'multipart/form-data')
      schemas[routeName(r)] = r.body.schema;
  }
  return bodyValidatorsModule(schemas);
}

export function listRoutes(): { method: string; path: string; status: number }[] {
  return routes().map((r) => ({ method: r.method, path: r.path, status: r.status }));
}
