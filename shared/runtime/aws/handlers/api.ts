// api: API Gateway (REST proxy v1 or HTTP API v2) → the same REST router as `sluice serve`.
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { API_PREFIX, type ApiRequest, errorBody, handleApi } from '../../../api/router.ts';
import type { AwsEngine } from '../aws-engine.ts';

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
  let body: unknown;
  if (event.body) {
    const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return `request body is not valid JSON: ${(err as Error).message}`;
    }
  }
  return { method: method.toUpperCase(), path, query, ...(body !== undefined ? { body } : {}) };
}

export function createApiHandler(engine: () => AwsEngine) {
  return async (event: APIGatewayProxyEvent | APIGatewayProxyEventV2): Promise<APIGatewayProxyResult> => {
    const req = apiRequestOf(event);
    if (typeof req === 'string') return json(400, errorBody('INVALID_JSON', req));
    const e = engine();
    const res = await handleApi(e.service, req);
    await e.notifier.drain();
    return json(res.status, res.body);
  };
}
