// The OpenAPI 3 document of the REST API, generated from the route table and from the same JSON
// Schemas that validate pipelines and algorithms (one source for both).
import { algorithmSchema, pipelineSchema } from '../pipeline/index.ts';
import { API_PREFIX, listRoutes } from './router.ts';

const BODIES: Record<string, { ref?: string; schema?: object }> = {
  'POST /exec/raw': { ref: 'Pipeline' },
  'POST /store/pipelines': { ref: 'Pipeline' },
  'PUT /store/pipelines': { ref: 'Pipeline' },
  'POST /store/algorithms': { ref: 'Algorithm' },
  'PUT /store/algorithms': { ref: 'Algorithm' },
  'POST /exec/stored': {
    schema: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string' },
        flowInput: { type: 'object' },
        options: { type: 'object' },
        priority: { type: 'integer', minimum: 1, maximum: 5 },
        webhooks: { type: 'object' },
        tags: { type: 'array', items: { type: 'string' } },
      },
    },
  },
  'POST /exec/stop': {
    schema: {
      type: 'object',
      required: ['jobId'],
      properties: { jobId: { type: 'string' }, reason: { type: 'string' } },
    },
  },
  'POST /exec/rerun': {
    schema: { type: 'object', required: ['jobId'], properties: { jobId: { type: 'string' } } },
  },
  'POST /exec/caching': {
    schema: {
      type: 'object',
      required: ['jobId', 'nodeName'],
      properties: { jobId: { type: 'string' }, nodeName: { type: 'string' } },
    },
  },
  'POST /cron/start': {
    schema: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' }, pattern: { type: 'string' } },
    },
  },
  'POST /cron/stop': {
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  },
};

const QUERIES: Record<string, string[]> = {
  'GET /exec/jobs': ['status', 'pipelineName', 'limit'],
  'GET /exec/tasks/{jobId}': ['nodeName'],
};

function stripIds(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(stripIds);
  if (schema && typeof schema === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schema)) {
      if (k === '$id' || k === '$schema') continue;
      out[k] = stripIds(v);
    }
    return out;
  }
  return schema;
}

export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of listRoutes()) {
    const key = `${r.method} ${r.path}`;
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    for (const q of QUERIES[key] ?? [])
      params.push({ name: q, in: 'query', required: false, schema: { type: 'string' } });
    const body = BODIES[key];
    const op: Record<string, unknown> = {
      operationId: key.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, ''),
      ...(params.length ? { parameters: params } : {}),
      ...(body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: body.ref ? { $ref: `#/components/schemas/${body.ref}` } : body.schema,
                },
              },
            },
          }
        : {}),
      responses: {
        [String(r.status)]: { description: 'OK', content: { 'application/json': { schema: {} } } },
        ...(r.method !== 'GET' || params.length
          ? {
              '400': { $ref: '#/components/responses/Error' },
              '404': { $ref: '#/components/responses/Error' },
            }
          : {}),
        ...(r.method === 'POST' ? { '409': { $ref: '#/components/responses/Error' } } : {}),
      },
    };
    const p = `${API_PREFIX}${r.path}`;
    paths[p] = { ...(paths[p] ?? {}), [r.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Sluice API', version: '1', description: 'HKube-compatible pipeline execution API' },
    paths,
    components: {
      schemas: {
        Pipeline: stripIds(pipelineSchema),
        Algorithm: stripIds(algorithmSchema),
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message', 'type'],
              description: "HKube's error shape, with Sluice's own code in `type`",
              properties: {
                code: { type: 'integer', description: 'the HTTP status' },
                message: { type: 'string', description: 'names the field and the rule' },
                type: { type: 'string', description: 'stable machine-readable code, e.g. INVALID_PIPELINE' },
                field: { type: 'string', description: 'the offending field, when known' },
              },
            },
          },
        },
      },
      responses: {
        Error: {
          description: 'The request was rejected; the message names the field and the rule',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
  };
}
