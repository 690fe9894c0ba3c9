// fetch against servers that misbehave on purpose (test/helpers/misbehaving-server.ts): lying
// lengths end in a clean, typed error with nothing partial left behind, and as a pipeline
// built-in a failing fetch never takes its host or a neighbouring fetch down.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FetchError } from '../../../../shared/io/fetch/errors.ts';
import { fetchArchive } from '../../../../shared/io/fetch/fetch.ts';
import { CORE_BUILTIN_MODULES, WorkerPool } from '../../../../shared/runner/worker-pool.ts';
import {
  honest,
  type MisbehavingServer,
  type RawRequest,
  type RawResponse,
  startMisbehavingServer,
} from '../../../helpers/misbehaving-server.ts';
import { failed, never, task } from '../../../helpers/workers.ts';

const KiB = 1024;
let work: string;
let servers: MisbehavingServer[] = [];
let tarball: Buffer;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sluice-misbehaving-'));
  execFileSync('sh', ['-c', `mkdir -p ${work}/src/ds && head -c 300000 /dev/urandom > ${work}/src/ds/a.bin`]);
  tarball = execFileSync('sh', ['-c', `tar -c -C ${work}/src ds | gzip -1`]);
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function serve(answer: (req: RawRequest) => RawResponse): Promise<string> {
  const s = await startMisbehavingServer(answer);
  servers.push(s);
  return `${s.url}/data.tgz`;
}

/** Honest for the probe, then every chunk's Content-Length off by `delta` bytes. */
function lyingLength(body: Buffer, delta: number, keepAlive: boolean) {
  return (req: RawRequest): RawResponse => {
    const r = honest(body, req, keepAlive ? { connection: 'keep-alive' } : {});
    if (req.n === 0) return r;
    r.headers!['content-length'] = r.body!.length + delta;
    if (keepAlive) r.after = 'open';
    return r;
  };
}

const quick = { chunkSize: 64 * KiB, retries: 1, backoffMs: 10, speedTime: 3 };

describe('fetch: a wrong Content-Length', () => {
  for (const [what, delta] of [
    ['too long (the server sends less)', 1000],
    ['too short (the server sends more)', -1000],
  ] as const) {
    for (const keepAlive of [false, true]) {
      it(`${what}, ${keepAlive ? 'keep-alive' : 'closing'}: a clean error, no .part left, -o and -x alike`, async () => {
        const url = await serve(lyingLength(tarball, delta, keepAlive));
        const dir = await mkdtemp(path.join(work, 'cl-'));
        const file = fetchArchive({
          url,
          output: { kind: 'file', path: path.join(dir, 'out.tgz') },
          ...quick,
        });
        await expect(file).rejects.toBeInstanceOf(FetchError);
        await expect(file).rejects.toThrow(/Content-Length \d+ disagrees with Content-Range bytes \d+-\d+/);
        const extract = fetchArchive({
          url,
          output: { kind: 'extract', dest: path.join(dir, 'x') },
          ...quick,
        });
        await expect(extract).rejects.toBeInstanceOf(FetchError);
        // No out.tgz and no .out.tgz.sluice-part(.json) (x/ is there when extraction had begun).
        expect((await readdir(dir)).filter((n) => n !== 'x')).toEqual([]);
      });
    }
  }
});

describe('fetch as a built-in: errors stay inside their task', () => {
  it('a fetch against a lying server fails alone; its neighbour in the same host completes', async () => {
    const bad = await serve(lyingLength(tarball, 1000, false));
    const good = await serve((req) => honest(tarball, req));
    const pool = new WorkerPool({
      cacheDir: await mkdtemp(path.join(work, 'pool-')),
      maxWorkers: 1,
      ioTasksPerHost: 4,
      killGraceMs: 300,
      builtinModules: [...CORE_BUILTIN_MODULES],
    });
    try {
      const fetchTask = (url: string, dest: string) =>
        pool.run(
          task({ name: 'fetch', env: 'builtin' }, [
            { url, dest: path.join(work, dest), chunkSize: '64K', retries: 1 },
          ]),
          never,
        );
      const [b, g] = await Promise.all([fetchTask(bad, 'bad'), fetchTask(good, 'good')]);
      expect(failed(b)).toMatchObject({ crashed: false });
      expect(failed(b).error).toMatch(/Content-Length \d+ disagrees with Content-Range/);
      expect(g.status).toBe('succeeded');
      expect((await readFile(path.join(work, 'good', 'ds', 'a.bin'))).length).toBe(300000);
    } finally {
      await pool.close();
    }
  });
});

describe('fetch: every request has a deadline, the download a minimum speed', () => {
  const fileIn = async (prefix: string) => path.join(await mkdtemp(path.join(work, prefix)), 'out.tgz');

  it('a server that never answers the first (size) request: retried, then a clean error', async () => {
    const url = await serve(() => ({ silent: true }));
    const t0 = Date.now();
    const run = fetchArchive({
      url,
      output: { kind: 'file', path: await fileIn('probe-') },
      timeoutSeconds: 1,
      retries: 1,
      backoffMs: 10,
    });
    await expect(run).rejects.toThrow(/no answer in 1 s \(--timeout\)/);
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(servers[0]!.requests).toHaveLength(2); // the probe and one retry
  });

  it('a chunk request that gets headers and then silence is retried, then fails', async () => {
    const url = await serve((req) =>
      req.n === 0 ? honest(tarball, req) : { ...honest(tarball, req), body: Buffer.alloc(0), after: 'open' },
    );
    const run = fetchArchive({
      url,
      output: { kind: 'file', path: await fileIn('silent-') },
      ...quick,
      workers: 1,
      timeoutSeconds: 1,
      speedLimit: 0,
    });
    await expect(run).rejects.toThrow(/no data for 1 s \(--timeout\)/);
  });

  it('a trickling server cannot keep fetch busy: slower than --speed-limit for --speed-time fails', async () => {
    const url = await serve((req) =>
      req.n === 0 ? honest(tarball, req) : { ...honest(tarball, req), bytesPerSecond: 2000 },
    );
    const t0 = Date.now();
    const run = fetchArchive({
      url,
      output: { kind: 'file', path: await fileIn('trickle-') },
      chunkSize: 64 * KiB,
      workers: 2,
      speedLimit: 10 * KiB,
      speedTime: 2,
      timeoutSeconds: 5,
    });
    await expect(run).rejects.toThrow(/slower than 10240 bytes\/s for 2 s .*--speed-limit/);
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('a server within the limits is not disturbed by them', async () => {
    const url = await serve((req) => honest(tarball, req));
    const out = await fileIn('ok-');
    await fetchArchive({ url, output: { kind: 'file', path: out }, ...quick, timeoutSeconds: 1 });
    expect((await readFile(out)).equals(tarball)).toBe(true);
  });
});

describe('fetch: a server claiming a petabyte', () => {
  it('plans chunks lazily: memory stays within the read-ahead, the first bytes come at once', async () => {
    const PB = 2 ** 50;
    const url = await serve((req) => {
      const start = req.range?.start ?? 0;
      const end = Math.min(req.range?.end ?? PB - 1, PB - 1);
      const length = Math.min(end - start + 1, 256 * KiB);
      return {
        status: 206,
        headers: { 'content-length': length, 'content-range': `bytes ${start}-${start + length - 1}/${PB}` },
        body: Buffer.alloc(length, 7),
      };
    });
    const stop = new AbortController();
    let got = 0;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        got += chunk.length;
        if (got >= 8 * 1024 * KiB) stop.abort(new Error('enough'));
        cb();
      },
    });
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = Date.now();
    const run = fetchArchive({
      url,
      output: { kind: 'stream', stream: sink },
      chunkSize: 256 * KiB,
      maxMemory: 16 * 1024 * KiB,
      signal: stop.signal,
    });
    await expect(run).rejects.toThrow(/enough/);
    expect(got).toBeGreaterThanOrEqual(8 * 1024 * KiB);
    expect(Date.now() - t0).toBeLessThan(5000);
    // Planning every chunk up front would hold 2^32 chunk records; lazily it holds a handful.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * KiB);
    expect(servers[0]!.requests.length).toBeLessThan(8 * 4 + 1 + 8 + 2); // consumed + probe + read-ahead
  });
});

describe('fetch: an extraction that failed half-way', () => {
  it('is marked incomplete, and the retry completes it (no "already exists" for ever)', async () => {
    // Many files, so the failed run has written some of them under their final names.
    execFileSync('sh', [
      '-c',
      `mkdir -p ${work}/many/t && cd ${work}/many/t && for i in $(seq 1 200); do head -c 4000 /dev/urandom > f$i; done`,
    ]);
    const tar = execFileSync('tar', ['-c', '-C', `${work}/many`, 't']);
    let failing = true;
    const url = await serve((req) => {
      const r = honest(tar, req);
      // The first run loses its connection after 300 KiB, for good.
      if (failing && req.n > 0) return { ...r, body: r.body!.subarray(0, 300 * KiB) };
      return r;
    });
    const dest = await mkdtemp(path.join(work, 'resume-'));
    const opts = { url, output: { kind: 'extract' as const, dest }, chunkSize: 1024 * KiB, retries: 0 };
    await expect(fetchArchive(opts)).rejects.toThrow(/connection closed after/);
    const left = await readdir(path.join(dest, 't'));
    expect(left.length).toBeGreaterThan(10); // a partial tree under the final names...
    expect(await readdir(dest)).toContain('.sluice-incomplete'); // ...marked as such
    failing = false;
    const logs: string[] = [];
    const summary = await fetchArchive({ ...opts, log: (l) => logs.push(l) });
    expect(summary.files).toBe(200);
    expect(logs.join('\n')).toMatch(/unfinished extraction/);
    expect(await readdir(dest)).toEqual(['t']); // complete: the marker is gone
    for (const i of [1, 100, 200])
      expect(
        (await readFile(path.join(dest, 't', `f${i}`))).equals(readFileSync(`${work}/many/t/f${i}`)),
      ).toBe(true);
    // A complete tree is still protected: a new extraction without --overwrite refuses.
    await expect(fetchArchive(opts)).rejects.toThrow(/already exists/);
    await expect(fetchArchive(opts)).rejects.toThrow(/already exists/); // and keeps refusing
  });
});
