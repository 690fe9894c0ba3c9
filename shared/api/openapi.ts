// The OpenAPI 3 document of the REST API, generated from the route table (each route documents its
// own body, query and response) and from the same JSON Schemas that validate pipelines and
// algorithms (one source for both).
import { algorithmSchema, pipelineSchema } from '../pipeline/index.ts';
import { RESPONSE_COMPONENTS } from './response-schemas.ts';
import { routes, type SchemaRef } from './route-table.ts';

const API_PREFIX = '/api/v1';

function schemaOf(s: SchemaRef): object {
  if (!('ref' in s)) return s.schema;
  const one = { $ref: `#/components/schemas/${s.ref}` };
  return s.orArray ? { oneOf: [one, { type: 'array', minItems: 1, items: one }] } : one;
}

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
  for (const r of routes()) {
    const key = `${r.method} ${r.path}`;
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    for (const [name, description] of Object.entries(r.query ?? {}))
      params.push({ name, in: 'query', required: false, description, schema: { type: 'string' } } as never);
    const body = r.body;
    const op: Record<string, unknown> = {
      operationId: key.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, ''),
      summary: r.summary,
      ...(params.length ? { parameters: params } : {}),
      ...(body
        ? {
            requestBody: {
              required: true,
              content: {
                [r.bodyMediaType ?? 'application/json']: {
                  schema: schemaOf(body),
                },
              },
            },
          }
        : {}),
      responses: {
        [String(r.status)]: {
          description: r.summary,
          content: {
            [r.contentType ?? 'application/json']: { schema: r.response ? schemaOf(r.response) : {} },
          },
        },
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
    // Paths carry their /api/v1 prefix: the server is whichever host served this document
    // (`sluice serve`, or the API Gateway stage).
    servers: [{ url: '/', description: 'the host that served this document' }],
    paths,
    components: {
      schemas: {
        Pipeline: stripIds(pipelineSchema),
        Algorithm: stripIds(algorithmSchema),
        ...RESPONSE_COMPONENTS,
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
