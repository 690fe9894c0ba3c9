// The Registry's algorithm versions on both stores, SQLite and DynamoDB (dynalite): a version is
// written once (a second write of its id is a ConflictError), listed newest first (same
// millisecond: by semver), read by id, deleted one by one, and deleting the algorithm deletes them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../shared/adapters/aws/clients.ts';
import { DynamoRegistry } from '../../../shared/adapters/aws/dynamo/registry.ts';
import { ensureTables } from '../../../shared/adapters/aws/dynamo-schema.ts';
import { FileBlobStore } from '../../../shared/adapters/local/file-blob-store.ts';
import { openSqliteState } from '../../../shared/adapters/local/sqlite/sqlite-state.ts';
import { ConflictError } from '../../../shared/errors.ts';
import type { AlgorithmDefinition } from '../../../shared/pipeline/types.ts';
import type { AlgorithmVersion, Registry } from '../../../shared/ports/registry.ts';
import { type Emulators, startEmulators } from '../../helpers/aws-emulators.ts';

const def = (version: string): AlgorithmDefinition => ({
  name: 'alg',
  env: 'command',
  command: ['echo', version],
  minHotWorkers: 0,
  version,
});
const v = (version: string, semver: string, created: number): AlgorithmVersion => ({
  name: 'alg',
  version,
  semver,
  created,
  algorithm: def(version),
});

async function behaves(registry: Registry): Promise<void> {
  await registry.putAlgorithmVersion(v('aaaaaaaaaa', '1.0.0', 1000));
  await registry.putAlgorithmVersion(v('bbbbbbbbbb', '1.0.1', 2000));
  await registry.putAlgorithmVersion(v('cccccccccc', '1.0.2', 2000)); // same millisecond
  await registry.putAlgorithm(def('cccccccccc'), 'upsert');
  await expect(registry.putAlgorithmVersion(v('aaaaaaaaaa', '9.9.9', 3000))).rejects.toBeInstanceOf(
    ConflictError,
  );
  expect((await registry.listAlgorithmVersions('alg')).map((x) => x.semver)).toEqual([
    '1.0.2',
    '1.0.1',
    '1.0.0',
  ]);
  expect((await registry.getAlgorithmVersion('alg', 'bbbbbbbbbb'))?.algorithm.command).toEqual([
    'echo',
    'bbbbbbbbbb',
  ]);
  expect(await registry.getAlgorithmVersion('alg', 'zzzzzzzzzz')).toBeUndefined();
  expect(await registry.getAlgorithmVersion('other', 'aaaaaaaaaa')).toBeUndefined();
  expect(await registry.deleteAlgorithmVersion('alg', 'aaaaaaaaaa')).toBe(true);
  expect(await registry.deleteAlgorithmVersion('alg', 'aaaaaaaaaa')).toBe(false);
  expect(await registry.listAlgorithmVersions('alg')).toHaveLength(2);
  expect(await registry.deleteAlgorithm('alg')).toBe(true);
  expect(await registry.listAlgorithmVersions('alg')).toEqual([]);
}

describe('algorithm versions', () => {
  it('SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-versions-sqlite-'));
    try {
      const state = openSqliteState(join(dir, 'sluice.db'), new FileBlobStore(join(dir, 'blobs')), 'normal');
      await behaves(state.registry);
      state.database.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('DynamoDB', () => {
    let emu: Emulators;
    beforeAll(async () => {
      emu = await startEmulators();
      Object.assign(process.env, emu.env);
    });
    afterAll(async () => {
      await emu?.close();
    });
    it('dynalite', { timeout: 60_000 }, async () => {
      const tables = { jobs: 'ver-jobs', tasks: 'ver-tasks', registry: 'ver-registry' };
      await ensureTables(new DynamoDBClient({}), tables);
      await behaves(new DynamoRegistry(createDocumentClient(), tables.registry));
    });
  });
});
