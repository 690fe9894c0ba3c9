// Routes of HKube's /store/* API: stored pipelines and algorithm definitions.

import { applyAlgorithm, uploadTarget } from '../code-upload.ts';
import { RESPONSES } from '../response-schemas.ts';
import { route } from '../route-table.ts';
import * as store from '../store.ts';
import { VERSION_RESPONSES } from '../version-schemas.ts';

route({
  method: 'GET',
  path: '/store/pipelines',
  summary: 'Stored pipelines',
  response: RESPONSES.pipelines,
  handler: (d) => store.listPipelines(d),
});
route({
  method: 'GET',
  path: '/store/pipelines/{name}',
  summary: 'A stored pipeline',
  response: { ref: 'Pipeline' },
  handler: (d, _r, p) => store.getPipeline(d, p.name as string),
});
route({
  method: 'POST',
  path: '/store/pipelines',
  status: 201,
  summary: 'Store a pipeline, or an array of them (409 if a name exists, unless overwrite=true)',
  body: { ref: 'Pipeline', orArray: true },
  query: { overwrite: 'true: replace stored pipelines of the same name (default false)' },
  response: { ref: 'Pipeline', orArray: true },
  handler: (d, r) => store.postPipelines(d, r.body, r.query.overwrite),
});
route({
  method: 'PUT',
  path: '/store/pipelines',
  summary: 'Replace a stored pipeline',
  body: { ref: 'Pipeline' },
  response: { ref: 'Pipeline' },
  handler: (d, r) => store.putPipeline(d, r.body, 'update'),
});
route({
  method: 'DELETE',
  path: '/store/pipelines/{name}',
  summary: 'Delete a stored pipeline',
  response: RESPONSES.deleted,
  handler: (d, _r, p) => store.deletePipeline(d, p.name as string),
});
route({
  method: 'GET',
  path: '/store/algorithms',
  summary: 'Registered algorithms',
  response: RESPONSES.algorithms,
  handler: (d) => store.listAlgorithms(d),
});
route({
  method: 'GET',
  path: '/store/algorithms/{name}',
  summary: 'A registered algorithm',
  response: { ref: 'Algorithm' },
  handler: (d, _r, p) => store.getAlgorithm(d, p.name as string),
});
route({
  method: 'POST',
  path: '/store/algorithms',
  status: 201,
  summary: 'Register an algorithm (409 if the name exists)',
  body: { ref: 'Algorithm' },
  response: { ref: 'Algorithm' },
  handler: (d, r) => store.putAlgorithm(d, r.body, 'create'),
});
route({
  method: 'PUT',
  path: '/store/algorithms',
  summary: 'Register or replace an algorithm',
  body: { ref: 'Algorithm' },
  response: { ref: 'Algorithm' },
  handler: (d, r) => store.putAlgorithm(d, r.body, 'upsert'),
});
route({
  method: 'DELETE',
  path: '/store/algorithms/{name}',
  summary: 'Delete a registered algorithm',
  response: RESPONSES.deleted,
  handler: (d, _r, p) => store.deleteAlgorithm(d, p.name as string),
});
route({
  method: 'POST',
  path: '/store/algorithms/apply',
  summary:
    'Register an algorithm with its code (multipart: payload = the definition as JSON, file = a .tar.gz or .tar of the code, options = {"setAsCurrent": bool}); every change is a new version',
  bodyMediaType: 'multipart/form-data',
  body: {
    schema: {
      type: 'object',
      required: ['payload'],
      properties: {
        payload: { type: 'string', description: 'the algorithm definition, JSON' },
        file: {
          type: 'string',
          format: 'binary',
          description: 'the code: a .tar.gz, .tgz or .tar (at most 50 MiB)',
        },
        options: {
          type: 'string',
          description: 'JSON: {"setAsCurrent": false} stores the version without making it current',
        },
      },
    },
  },
  response: RESPONSES.algorithmApplied,
  handler: (d, r) => applyAlgorithm(d, r.body),
});
route({
  method: 'POST',
  path: '/store/algorithms/apply/upload',
  status: 201,
  summary:
    'A URL to PUT a code archive to when it is too large for a request (AWS: a presigned S3 URL, valid 15 minutes); then apply with the field upload = uploadId. 501 where requests take the archive (sluice serve)',
  body: { schema: { type: 'object', additionalProperties: false, properties: {} } },
  response: VERSION_RESPONSES.uploadTarget,
  handler: (d) => uploadTarget(d),
});
