// The `fetch` algorithm, called the way the built-in host calls it: run(input, ctx).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../shared/errors.ts';
import { fetchAlgorithm } from '../../../../shared/io/algorithms/fetch.ts';
import { type RangeServer, startRangeServer } from '../../../helpers/range-server.ts';

let work: string;
let server: RangeServer;
const ctx = () => ({ signal: new AbortController().signal, env: {}, log: () => {} });

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sluice-fetch-algorithm-'));
  await mkdir(path.join(work, 'src', 'ds'), { recursive: true });
  await writeFile(path.join(work, 'src', 'ds', 'train.csv'), 'a,b\n1,2\n');
  const tgz = execFileSync('sh', ['-c', `tar -c -C ${work}/src ds | gzip -c`]);
  server = await startRangeServer({ body: tgz });
});
afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

describe('fetchAlgorithm', () => {
  it('describes itself as an IO-bound algorithm named fetch', () => {
    expect(fetchAlgorithm).toMatchObject({ name: 'fetch', ioBound: true });
  });

  it('extracts each input item and returns the summary (an array for several items)', async () => {
    const a = path.join(work, 'a');
    const b = path.join(work, 'b.tgz');
    const result = (await fetchAlgorithm.run(
      [
        { url: `${server.url}/ds.tgz`, dest: a, stripComponents: 1 },
        { url: `${server.url}/ds.tgz`, output: b },
      ],
      ctx(),
    )) as { mode: string; files: number }[];
    expect(result.map((r) => r.mode)).toEqual(['extract', 'file']);
    expect(result[0]!.files).toBe(1);
    expect(await readFile(path.join(a, 'train.csv'), 'utf8')).toBe('a,b\n1,2\n');
    expect((await readFile(b)).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  it('rejects bad input with a ValidationError that names the field', async () => {
    await expect(
      fetchAlgorithm.run([{ url: 'http://x/y', dest: '/tmp/x', stripComponent: 1 }], ctx()),
    ).rejects.toThrow(/fetch input\[0\]\.stripComponent is not a known option/);
    await expect(fetchAlgorithm.run([{ url: 'http://x/y' }], ctx())).rejects.toBeInstanceOf(ValidationError);
    await expect(fetchAlgorithm.run([], ctx())).rejects.toThrow(/non-empty array/);
  });
});
