// The API describing itself: the OpenAPI document generated from the route table.
import { openApiDocument } from '../openapi.ts';
import { RESPONSES } from '../response-schemas.ts';
import { route } from '../route-table.ts';

route({
  method: 'GET',
  path: '/openapi.json',
  summary: 'This document',
  response: RESPONSES.openapi,
  handler: () => openApiDocument(),
});
