// JSON Schemas of the answers of the algorithm versions and code upload routes (version-routes.ts,
// `POST /store/algorithms/apply`), for the OpenAPI document (response-schemas.ts lists them).
import type { SchemaRef } from './route-table.ts';

export const ALGORITHM_VERSION = {
  type: 'object',
  required: ['name', 'version', 'semver', 'created', 'algorithm'],
  description: 'a stored version of an algorithm definition (HKube shape)',
  properties: {
    name: { type: 'string' },
    version: { type: 'string', description: 'its id; also algorithm.version' },
    semver: { type: 'string', description: '1.0.0, 1.0.1, ... in the order versions were made' },
    created: { type: 'number', description: 'epoch milliseconds' },
    algorithm: { $ref: '#/components/schemas/Algorithm' },
  },
};

export const VERSION_RESPONSES = {
  algorithmVersions: {
    schema: { type: 'array', items: { $ref: '#/components/schemas/AlgorithmVersion' } },
  },
  algorithmApplied: {
    schema: {
      type: 'object',
      required: ['messages', 'algorithm', 'created'],
      properties: {
        messages: { type: 'array', items: { type: 'string' } },
        algorithm: { $ref: '#/components/schemas/Algorithm' },
        created: { type: 'boolean', description: 'false when the definition and code were unchanged' },
      },
    },
  },
  uploadTarget: {
    schema: {
      type: 'object',
      required: ['uploadId', 'url', 'method', 'expiresInSeconds'],
      properties: {
        uploadId: { type: 'string' },
        url: { type: 'string', description: 'PUT the archive here (no other headers needed)' },
        method: { const: 'PUT' },
        expiresInSeconds: { type: 'integer' },
      },
    },
  },
  versionDeleted: {
    schema: {
      type: 'object',
      required: ['name', 'version', 'deleted'],
      properties: { name: { type: 'string' }, version: { type: 'string' }, deleted: { const: true } },
    },
  },
} satisfies Record<string, SchemaRef>;
