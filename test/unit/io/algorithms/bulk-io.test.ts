// The bulk IO algorithms (cp, zip, rm) called the way the built-in host calls them: run(input, ctx).
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../shared/errors.ts';
import { ioAlgorithms } from '../../../../shared/io/algorithms/index.ts';
import { IoFailuresError } from '../../../../shared/io/errors.ts';
import type { IoSummary } from '../../../../shared/io/types.ts';
import type { BuiltinContext } from '../../../../shared/ports/builtin-algorithm.ts';
import type { ObjectStore, ObjectStores } from '../../../../shared/ports/object-store.ts';
import { makeSampleTree, snapshot, tempDir } from '../../../helpers/tree.ts';

let dir: string;
let logs: string[];
let ctx: BuiltinContext;
const algo = (name: string) => ioAlgorithms.find((b) => b.name === name)!;

beforeEach(async () => {
  dir = await tempDir('io-algorithms');
  logs = [];
  ctx = { signal: new AbortController().signal, env: {}, log: (l) => void logs.push(l) };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ioAlgorithms', () => {
  it('exports cp, zip, rm and fetch, all IO-bound', () => {
    expect(ioAlgorithms.map((b) => [b.name, b.ioBound])).toEqual([
      ['cp', true],
      ['zip', true],
      ['rm', true],
      ['fetch', true],
    ]);
  });

  it('asks ctx.objectStores for a store only when a location is s3://', async () => {
    const asked: string[] = [];
    const store = {
      // Any call shows the store reached the operation; listing fails like a missing bucket.
      list: () => {
        throw new Error('list called');
      },
      head: () => Promise.reject(new Error('head called')),
    } as unknown as ObjectStore;
    const objectStores: ObjectStores = {
      s3: async () => {
        asked.push('s3');
        return store;
      },
    };
    await makeSampleTree(join(dir, 'src'));
    await algo('cp').run([{ src: join(dir, 'src'), dst: join(dir, 'dst') }], { ...ctx, objectStores });
    expect(asked).toEqual([]);
    const err = await algo('cp')
      .run([{ src: 's3://bucket/in/', dst: join(dir, 'dst2') }], { ...ctx, objectStores })
      .catch((e: unknown) => e);
    expect(asked).toEqual(['s3']);
    expect(String(err)).toMatch(/(list|head) called/);
  });

  it('an s3:// location without ctx.objectStores fails with a ValidationError', async () => {
    await expect(algo('rm').run([{ src: 's3://bucket/x' }], ctx)).rejects.toThrow(
      /s3:\/\/ targets need an object store/,
    );
    await expect(algo('cp').run([{ src: join(dir, 'a'), dst: 's3://bucket/x' }], ctx)).rejects.toThrow(
      ValidationError,
    );
  });

  it('cp copies src to dst (dst is the copy) and a retry skips what is done', async () => {
    await makeSampleTree(join(dir, 'src'));
    await mkdir(join(dir, 'dst'));
    const first = (await algo('cp').run([{ src: join(dir, 'src'), dst: join(dir, 'dst') }], ctx)) as {
      files: number;
    };
    expect(first.files).toBe(32);
    expect(await snapshot(join(dir, 'dst'))).toEqual(await snapshot(join(dir, 'src')));
    const again = (await algo('cp').run([{ src: join(dir, 'src'), dst: join(dir, 'dst') }], ctx)) as {
      files: number;
      skipped: number;
    };
    expect(again).toMatchObject({ files: 0, skipped: 34 });
    expect(logs.at(-1)).toMatch(/^cp: 0 files/);
  });

  it('zip writes a deterministic zip; rm removes and is idempotent', async () => {
    await makeSampleTree(join(dir, 'src'));
    const s = (await algo('zip').run(
      [{ src: join(dir, 'src'), dst: join(dir, 'out.zip'), jobs: 4, maxMemory: '8M' }],
      ctx,
    )) as { files: number };
    expect(s.files).toBe(32);
    expect(execFileSync('unzip', ['-t', join(dir, 'out.zip')]).toString()).toContain('No errors detected');
    await algo('rm').run([{ src: [join(dir, 'src'), join(dir, 'out.zip')] }], ctx);
    expect(await readdir(dir)).toEqual([]);
    const retry = (await algo('rm').run([{ src: join(dir, 'src') }], ctx)) as { failures: unknown[] };
    expect(retry.failures).toEqual([]);
  });

  it('rejects bad input with a ValidationError naming the field', async () => {
    await expect(algo('cp').run([], ctx)).rejects.toThrow(ValidationError);
    await expect(algo('cp').run(['/a'], ctx)).rejects.toThrow(/input\[0\] must be an object like/);
    await expect(algo('cp').run([{ src: '/a' }], ctx)).rejects.toThrow(/input\[0\]\.dst is required/);
    await expect(algo('cp').run([{ src: '/a', dts: '/b' }], ctx)).rejects.toThrow(
      /input\[0\]\.dts is not a known field/,
    );
    await expect(algo('zip').run([{ src: [], dst: '/x.zip' }], ctx)).rejects.toThrow(
      /input\[0\]\.src must be a path or a non-empty array/,
    );
    await expect(algo('rm').run([{ src: '/tmp/x', jobs: 0 }], ctx)).rejects.toThrow(
      /jobs must be a positive integer/,
    );
    await expect(algo('rm').run([{ src: '/' }], ctx)).rejects.toThrow(/refusing/);
    await expect(algo('rm').run([{ src: '/tmp/x', volume: 'nfs' }], ctx)).rejects.toThrow(
      /volume must be one of auto, local, network/,
    );
  });

  it('takes volume to force how the file system is driven', async () => {
    await makeSampleTree(join(dir, 'src'));
    const s = (await algo('cp').run(
      [{ src: join(dir, 'src'), dst: join(dir, 'dst'), volume: 'network' }],
      ctx,
    )) as IoSummary;
    expect(s).toMatchObject({ files: 32, failures: [] });
    expect(await snapshot(join(dir, 'dst'))).toEqual(await snapshot(join(dir, 'src')));
  });

  it('fails the task with every failed item when something could not be copied', async () => {
    await makeSampleTree(join(dir, 'src'));
    execFileSync('mkfifo', [join(dir, 'src/pipe')]);
    await writeFile(join(dir, 'x'), 'x');
    const err = await algo('cp')
      .run([{ src: join(dir, 'src'), dst: join(dir, 'dst') }], ctx)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoFailuresError);
    expect((err as IoFailuresError).summary.failures).toHaveLength(1);
    expect((err as IoFailuresError).summary.files).toBe(32);
    expect(logs.some((l) => l.includes('FAILED') && l.includes('pipe'))).toBe(true);
  });
});
