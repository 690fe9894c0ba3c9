// Validators compiled at build time (precompiled-validators.ts): the modules the build writes give
// the same findings and fill in the same defaults as ajv compiling the schemas at run time, and a
// module is used only while its fingerprint matches the schema.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../../shared/api/route-table.ts';
import { routeBodyValidatorsModule } from '../../../shared/api/router.ts';
import {
  fingerprintOf,
  precompiledValidator,
  standaloneModule,
} from '../../../shared/pipeline/precompiled-validators.ts';
import { pipelineSchema } from '../../../shared/pipeline/schema.ts';
import {
  AJV_OPTIONS,
  checkAgainstSchema,
  descriptorValidatorsModule,
  problemsOf,
} from '../../../shared/pipeline/schema-validator.ts';
import { REPO } from '../../helpers/process.ts';

// Inside the repository, where the generated code finds ajv's runtime files as the build's does.
let dir: string;
/** A module URL beside which the written .cjs files sit. */
let beside: string;
beforeAll(() => {
  dir = mkdtempSync(join(REPO, 'node_modules', '.sluice-precompiled-'));
  beside = pathToFileURL(join(dir, 'user.js')).href;
  for (const { file, code } of [descriptorValidatorsModule(), routeBodyValidatorsModule()])
    writeFileSync(join(dir, file), code);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DESCRIPTOR_OPTIONS = { ...AJV_OPTIONS, useDefaults: true };

const pipelines: unknown[] = [
  { name: 'ok', nodes: [{ nodeName: 'a', algorithmName: 'echo', input: [1] }] },
  {
    name: 'hooks',
    nodes: [{ nodeName: 'a', algorithmName: 'echo', input: [] }],
    webhooks: { result: 'http://127.0.0.1:9/r', progress: 'not a url' },
  },
  { name: 'bad name!', nodes: [{ nodeName: 'a', algorithmName: 'Echo', retry: { policy: 'Sometimes' } }] },
  { name: 'x', nodes: [], extra: true },
  { nodes: 'none' },
];

describe('precompiled descriptor validators', () => {
  it('give the findings and the defaults of a validator compiled at run time', () => {
    const { file } = descriptorValidatorsModule();
    const validate = precompiledValidator(
      beside,
      file,
      'pipeline',
      fingerprintOf(DESCRIPTOR_OPTIONS, pipelineSchema),
    );
    expect(validate).toBeTypeOf('function');
    for (const doc of pipelines) {
      const mine = structuredClone(doc);
      const ok = (validate as NonNullable<typeof validate>)(mine);
      const theirs = structuredClone(doc);
      const problems = checkAgainstSchema('pipeline', theirs);
      expect(ok).toBe(problems.length === 0);
      if (!ok)
        expect(problemsOf(validate as NonNullable<typeof validate>, mine, 'pipeline')).toEqual(problems);
      expect(mine).toEqual(theirs); // the defaults filled in
    }
  });

  it('are not used for another schema, other options, or where the build wrote none', () => {
    const { file } = descriptorValidatorsModule();
    const changed = { ...pipelineSchema, title: 'changed' };
    expect(precompiledValidator(beside, file, 'pipeline', fingerprintOf(DESCRIPTOR_OPTIONS, changed))).toBe(
      undefined,
    );
    expect(precompiledValidator(beside, file, 'pipeline', fingerprintOf(AJV_OPTIONS, pipelineSchema))).toBe(
      undefined,
    );
    const elsewhere = pathToFileURL(join(REPO, 'test', 'nowhere', 'user.js')).href;
    expect(
      precompiledValidator(elsewhere, file, 'pipeline', fingerprintOf(DESCRIPTOR_OPTIONS, pipelineSchema)),
    ).toBe(undefined);
  });
});

describe('precompiled request body validators', () => {
  it('cover every route with a JSON body schema, and judge bodies as compiled ones do', () => {
    const { file } = routeBodyValidatorsModule();
    const ajv = new Ajv(AJV_OPTIONS);
    let checked = 0;
    for (const r of routes()) {
      if (!r.body || !('schema' in r.body) || r.bodyMediaType) continue;
      const schema = r.body.schema;
      const validate = precompiledValidator(
        beside,
        file,
        `${r.method} ${r.path}`,
        fingerprintOf(AJV_OPTIONS, schema),
      );
      expect(validate, `${r.method} ${r.path}`).toBeTypeOf('function');
      const compiled = ajv.compile(schema);
      for (const body of [{}, { unknown: 1 }, { taskIds: [] }, { taskIds: ['a'], timeoutMs: -1 }, []]) {
        const ok = (validate as NonNullable<typeof validate>)(body);
        expect(ok).toBe(compiled(body));
        if (!ok) expect(validate?.errors).toEqual(compiled.errors);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('writes a fingerprint for each validator it holds', () => {
    const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
    const schema = { type: 'object', properties: { a: { type: 'integer' } } };
    const code = standaloneModule(ajv, AJV_OPTIONS, { one: schema });
    expect(code).toContain(`"one":"${fingerprintOf(AJV_OPTIONS, schema)}"`);
  });
});
