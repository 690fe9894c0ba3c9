// Sluice compiles its JSON Schemas without checking them against the meta-schema at run time
// (AJV_OPTIONS: that cost ~40 ms of every job submission), so this is where they are checked: the
// pipeline and algorithm schemas and every route's request body schema are valid JSON Schemas.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { routes } from '../../../shared/api/route-table.ts';
import '../../../shared/api/routes/index.ts';
import { algorithmSchema, pipelineSchema } from '../../../shared/pipeline/schema.ts';
import { AJV_OPTIONS } from '../../../shared/pipeline/schema-validator.ts';

function metaChecked(): Ajv {
  const ajv = new Ajv({ ...AJV_OPTIONS, validateSchema: true });
  ajv.addFormat('uri', () => true);
  return ajv;
}

describe('Sluice JSON Schemas', () => {
  it('the pipeline and algorithm schemas are valid against the meta-schema', () => {
    const ajv = metaChecked();
    for (const schema of [pipelineSchema, algorithmSchema]) {
      expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    }
  });

  it('every route body schema is valid against the meta-schema', () => {
    const ajv = metaChecked();
    const bodies = routes().flatMap((r) =>
      r.body && 'schema' in r.body ? [[`${r.method} ${r.path}`, r.body.schema] as const] : [],
    );
    expect(bodies.length).toBeGreaterThan(10);
    for (const [where, schema] of bodies) {
      expect(ajv.validateSchema(schema as object), `${where}: ${JSON.stringify(ajv.errors)}`).toBe(true);
    }
  });

  it('a schema mistake is what this test catches', () => {
    expect(metaChecked().validateSchema({ type: 'objekt' })).toBe(false);
  });
});
