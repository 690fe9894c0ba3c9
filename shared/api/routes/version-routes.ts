// Routes of HKube's /versions/algorithms API: the stored versions of algorithm definitions.

import * as versions from '../algorithm-versions.ts';
import { RESPONSES } from '../response-schemas.ts';
import { route } from '../route-table.ts';

route({
  method: 'GET',
  path: '/versions/algorithms/{name}',
  summary: 'The versions of an algorithm, newest first',
  response: RESPONSES.algorithmVersions,
  handler: (d, _r, p) => versions.listVersions(d, p.name as string),
});
route({
  method: 'GET',
  path: '/versions/algorithms/{name}/{version}',
  summary: 'One version of an algorithm (by its id or its semver)',
  response: { ref: 'AlgorithmVersion' },
  handler: (d, _r, p) => versions.getVersion(d, p.name as string, p.version as string),
});
route({
  method: 'POST',
  path: '/versions/algorithms/apply',
  status: 201,
  summary:
    'Make a stored version the current definition (restore); jobs already running keep the version they started with',
  body: {
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'version'],
      properties: {
        name: { type: 'string', minLength: 1 },
        version: { type: 'string', minLength: 1, description: 'the version id, or its semver' },
        force: {
          type: 'boolean',
          description: "HKube's; accepted and not needed (running jobs keep their version)",
        },
      },
    },
  },
  response: { ref: 'AlgorithmVersion' },
  handler: (d, r) => versions.restoreVersion(d, r.body as { name: string; version: string }),
});
route({
  method: 'DELETE',
  path: '/versions/algorithms/{name}/{version}',
  summary: 'Delete a version (409 for the current one)',
  response: RESPONSES.versionDeleted,
  handler: (d, _r, p) => versions.deleteVersion(d, p.name as string, p.version as string),
});
