// How fetchArchive turns --max-memory into read-ahead: it starts a chunk only while the chunks
// ahead of the consumer fit in 1/8 of the budget, so the budget bounds the requests in flight.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchArchive } from '../../../../shared/io/fetch/fetch.ts';
import { type RangeServer, startRangeServer } from '../../../helpers/range-server.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const body = randomBytes(2 * MiB);
let work: string;
let server: RangeServer | undefined;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sluice-fetch-budget-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function download(maxMemory: number): Promise<{ maxInFlight: number; requests: number }> {
  server = await startRangeServer({ body, delayMs: 20 });
  const out = path.join(work, `out-${maxMemory}.bin`);
  const summary = await fetchArchive({
    url: `${server.url}/blob.bin`,
    output: { kind: 'file', path: out },
    workers: 16,
    chunkSize: 64 * KiB,
    maxMemory,
  });
  expect((await readFile(out)).equals(body)).toBe(true);
  return { maxInFlight: server.maxInFlight, requests: summary.requests };
}

describe('fetchArchive memory budget', () => {
  it('keeps at most maxMemory/8 of chunks in flight (1 MiB: two 64 KiB chunks)', async () => {
    const r = await download(1 * MiB);
    expect(r.requests).toBe(1 + 32); // the probe, then 2 MiB in 64 KiB chunks
    expect(r.maxInFlight).toBe(2);
  });

  it('a larger budget buys more parallel requests, up to --workers (4 MiB: eight chunks)', async () => {
    const r = await download(4 * MiB);
    expect(r.maxInFlight).toBe(8);
  });
});
