// api: API Gateway (REST proxy v1 or HTTP API v2) → the same REST router as `sluice serve`; the
// dashboard's files on every other GET path (behind the same authorization: API Gateway's). An
// answer over Lambda's response limit is handed out as a presigned URL (large-answers.ts).
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { BoundedEventStream } from '../../../api/live-events.ts';
import { isMultipart, parseMultipart } from '../../../api/multipart.ts';
import { API_PREFIX, type ApiRequest, errorBody, handleApi } from '../../../api/router.ts';
import { type DashboardFiles, dashboardAnswer } from '../../dashboard-assets.ts';
import type { AwsEngine } from '../aws-engine.ts';
import { answerOrRedirect } from '../large-answers.ts';

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(body),
});

/** The router's request from either event version; a string error for a malformed body. */
export function apiRequestOf(event: APIGatewayProxyEvent | APIGatewayProxyEventV2): ApiRequest | string {
  const v2 = 'rawPath' in event;
  const method = v2 ? event.requestContext.http.method : event.httpMethod;
  let path = v2 ? event.rawPath : event.path;
  const at = path.indexOf(API_PREFIX);
  path = at >= 0 ? path.slice(at + API_PREFIX.length) || '/' : path;
  const query: Record<string, string | undefined> = { ...(event.queryStringParameters ?? {}) };
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  let body: unknown;
  const type = headers['content-type'];
  if (event.body && isMultipart(type)) {
    // Binary media types (the API stage lists multipart/form-data) arrive base64-encoded.
    const bytes = Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    try {
      body = parseMultipart(bytes, type as string);
    } catch (err) {
      return (err as Error).message;
    }
  } else if (event.body) {
    const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return `request body is not valid JSON: ${(err as Error).message}`;
    }
  }
  return { method: method.toUpperCase(), path, query, headers, ...(body !== undefined ? { body } : {}) };
}

/**
 * A dashboard file for a GET outside /api/v1, or undefined. The stage root without its slash
 * (`/prod`) is redirected to `/prod/`: the page loads its files relative to itself.
 */
function dashboardResult(
  event: APIGatewayProxyEvent | APIGatewayProxyEventV2,
  files: DashboardFiles,
): APIGatewayProxyResult | undefined {
  const v2 = 'rawPath' in event;
  const method = v2 ? event.requestContext.http.method : event.httpMethod;
  const path = v2 ? event.rawPath : event.path;
  if ((method !== 'GET' && method !== 'HEAD') || path.includes(API_PREFIX)) return undefined;
  const seen = v2 ? event.rawPath : (event.requestContext?.path ?? path);
  if (path === '/' && !seen.endsWith('/')) {
    return { statusCode: 301, headers: { location: `${seen}/` }, body: '' };
  }
  const a = dashboardAnswer(files, path);
  if (!a) return undefined;
  return { statusCode: a.status, headers: a.headers, body: method === 'HEAD' ? '' : a.body.toString('utf8') };
}

export interface ApiHandlerOptions {
  /** Serve the dashboard at `/` (its bundle's folder). */
  dashboard?: DashboardFiles;
}

export function createApiHandler(engine: () => AwsEngine, opts: ApiHandlerOptions = {}) {
  return async (event: APIGatewayProxyEvent | APIGatewayProxyEventV2): Promise<APIGatewayProxyResult> => {
    const page = opts.dashboard ? dashboardResult(event, opts.dashboard) : undefined;
    if (page) return page;
    const req = apiRequestOf(event);
    if (typeof req === 'string') return json(400, errorBody('INVALID_JSON', req));
    const e = engine();
    const res = await handleApi(e.service, req);
    await e.notifier.drain();
    if (res.body instanceof BoundedEventStream) {
      return {
        statusCode: 200,
        headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
        body: res.body.text,
      };
    }
    return answerOrRedirect(req.method, json(res.status, res.body), {
      s3: e.s3,
      bucket: e.config.blobBucket,
      maxBytes: e.config.apiInlineMaxBytes,
    });
  };
}
