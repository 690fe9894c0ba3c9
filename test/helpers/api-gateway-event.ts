// An API Gateway REST proxy event for the api function's handler, as API Gateway sends it for
// `/prod/<path>` (tests that call the handler directly, without the HTTP shell).
import type { APIGatewayProxyEvent } from 'aws-lambda';

export function proxyEvent(method: string, path: string, body?: unknown, raw?: string): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path: `/prod${path}`,
    resource: '/{proxy+}',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    body: raw ?? (body === undefined ? null : JSON.stringify(body)),
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}
