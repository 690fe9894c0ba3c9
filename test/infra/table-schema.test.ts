// The deployed tables must be the tables the runtime's DynamoDB store creates in tests
// (shared/adapters/aws/dynamo-schema.ts).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../infra/config.ts';
import { StateStack, TTL_ATTRIBUTE } from '../../infra/stacks/state-stack.ts';
import { REPO_ROOT } from '../../infra/stacks/workers-stack.ts';
import { cdkJsonContext } from '../helpers/cdk.ts';
import { type Json, resourcesOfType } from '../helpers/cfn.ts';

const RUNTIME_SCHEMA = path.join(REPO_ROOT, 'shared/adapters/aws/dynamo-schema.ts');

const byName = <T extends { AttributeName: string }>(xs: T[]) =>
  [...xs].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));

describe('tables vs the runtime schema', () => {
  it('has the same keys, attribute types, indexes and TTL attribute', async () => {
    const runtime = (await import(/* @vite-ignore */ pathToFileURL(RUNTIME_SCHEMA).href)) as Json;
    const defs = runtime.tableDefinitions({ jobs: 'jobs', tasks: 'tasks', registry: 'registry' });
    expect(runtime.TTL_ATTRIBUTE).toBe(TTL_ATTRIBUTE);

    const app = new App({ context: cdkJsonContext() });
    const stack = new StateStack(app, 'schema-test', { config: DEFAULT_CONFIG });
    const tables = resourcesOfType(Template.fromStack(stack), 'AWS::DynamoDB::Table');
    for (const name of ['jobs', 'tasks', 'registry']) {
      const id = Object.keys(tables).find((k) => k.toLowerCase().startsWith(`${name}table`))!;
      const deployed = tables[id]!.Properties;
      const def = defs[name];
      expect(deployed.KeySchema, name).toEqual(def.KeySchema);
      expect(byName(deployed.AttributeDefinitions), name).toEqual(byName(def.AttributeDefinitions));
      const gsis = (xs: Json[] | undefined) =>
        (xs ?? []).map((g: Json) => {
          const keys = g.KeySchema.map((k: Json) => k.AttributeName);
          return {
            name: g.IndexName,
            keys: g.KeySchema,
            type: g.Projection.ProjectionType,
            // Key attributes are always projected; compare the rest.
            attrs: (g.Projection.NonKeyAttributes ?? []).filter((a: string) => !keys.includes(a)).sort(),
          };
        });
      expect(gsis(deployed.GlobalSecondaryIndexes), name).toEqual(gsis(def.GlobalSecondaryIndexes));
    }
  }, 120_000);
});
