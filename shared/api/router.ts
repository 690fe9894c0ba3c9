// The REST API as one framework-free router: (method, path, query, body) -> (status, body).
// `sluice serve` puts it behind node:http; the AWS api function puts it behind API Gateway.
import { SluiceError, ValidationError } from '../errors.ts';
import { openApiDocument } from './openapi.ts';
import type { SluiceService } from './service.ts';

export interface ApiRequest {
  method: string;
  /** Path after the /api/v1 prefix, e.g. /exec/status/abc. */
  path: string;
  query: Record<string, string | undefined>;
  body?: unknown;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export const API_PREFIX = '/api/v1';

type Params = Record<string, string>;
type Handler = (s: SluiceService, req: ApiRequest, p: Params) => Promise<unknown> | unknown;

interface Route {
  method: string;
  path: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
  status: number;
}

const routes: Route[] = [];
function route(method: string, path: string, handler: Handler, status = 200): void {
  const keys: string[] = [];
  const pattern = new RegExp(
    `^${path.replace(/\{(\w+)\}/g, (_m, k: string) => {
      keys.push(k);
      return '([^/]+)';
    })}/?$`,
  );
  routes.push({ method, path, pattern, keys, handler, status });
}

route('POST', '/exec/raw', (s, r) => s.execRaw(r.body), 201);
route('POST', '/exec/stored', (s, r) => s.execStored(r.body), 201);
route('POST', '/exec/stop', (s, r) => s.stop(r.body));
route('POST', '/exec/caching', (s, r) => s.caching(r.body), 201);
route('POST', '/exec/rerun', (s, r) => s.rerun(r.body), 201);
route('GET', '/exec/status/{jobId}', (s, _r, p) => s.status(p.jobId as string));
route('GET', '/exec/results/{jobId}', (s, _r, p) => s.results(p.jobId as string));
route('GET', '/exec/pipelines/{jobId}', (s, _r, p) => s.executedPipeline(p.jobId as string));
route('GET', '/exec/tasks/{jobId}', (s, r, p) => s.tasks(p.jobId as string, r.query.nodeName));
route('GET', '/exec/jobs', (s, r) => s.jobs(r.query));
route('GET', '/store/pipelines', (s) => s.listPipelines());
route('GET', '/store/pipelines/{name}', (s, _r, p) => s.getPipeline(p.name as string));
route('POST', '/store/pipelines', (s, r) => s.putPipeline(r.body, 'create'), 201);
route('PUT', '/store/pipelines', (s, r) => s.putPipeline(r.body, 'update'));
route('DELETE', '/store/pipelines/{name}', (s, _r, p) => s.deletePipeline(p.name as string));
route('GET', '/store/algorithms', (s) => s.listAlgorithms());
route('GET', '/store/algorithms/{name}', (s, _r, p) => s.getAlgorithm(p.name as string));
route('POST', '/store/algorithms', (s, r) => s.putAlgorithm(r.body, 'create'), 201);
route('PUT', '/store/algorithms', (s, r) => s.putAlgorithm(r.body, 'upsert'));
route('DELETE', '/store/algorithms/{name}', (s, _r, p) => s.deleteAlgorithm(p.name as string));
route('GET', '/cron/list', (s) => s.cronList());
route('POST', '/cron/start', (s, r) => s.cronSet(r.body, true));
route('POST', '/cron/stop', (s, r) => s.cronSet(r.body, false));
route('GET', '/pipelines/triggers/tree', (s) => s.triggersTree());
route('GET', '/webhooks/status/{jobId}', (s, _r, p) => s.webhooks(p.jobId as string, 'progress'));
route('GET', '/webhooks/results/{jobId}', (s, _r, p) => s.webhooks(p.jobId as string, 'result'));
route('GET', '/openapi.json', () => openApiDocument());

/** The statuses of the error types answered without a SluiceError (the HTTP shells use them too). */
const STATUS_OF_TYPE: Readonly<Record<string, number>> = {
  INVALID_JSON: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  TOO_LARGE: 413,
  INTERNAL: 500,
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
  const pathMatches = routes.filter((r) => r.pattern.test(req.path));
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
  const params: Params = {};
  r.keys.forEach((k, i) => {
    params[k] = decodeURIComponent(m[i + 1] ?? '');
  });
  try {
    return { status: r.status, body: await r.handler(service, req, params) };
  } catch (err) {
    if (err instanceof SluiceError && err.status < 500) {
      const field = err instanceof ValidationError ? err.field : undefined;
      return { status: err.status, body: errorBody(err.code, err.message, err.status, field) };
    }
    const e = err as Error;
    return { status: 500, body: errorBody('INTERNAL', e?.message ?? String(err), 500) };
  }
}

export function listRoutes(): { method: string; path: string; status: number }[] {
  return routes.map((r) => ({ method: r.method, path: r.path, status: r.status }));
}
