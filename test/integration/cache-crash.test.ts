// `sluice cache serve` as a real process: killed with SIGKILL while blocks are being written, then
// restarted on the same directory, it serves only intact blocks (the half-written ones are gone,
// a damaged one is caught by its checksum) and keeps its warm blocks. Then `sluice cache stats`
// and `sluice cache clear` on that directory, and the flag errors.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { read } from '../helpers/cache.ts';
import { runCli } from '../helpers/cli.ts';
import { type CountingOrigin, startCountingOrigin } from '../helpers/counting-origin.ts';
import { BIN, REPO } from '../helpers/process.ts';

const BS = 64 * 1024;
let origin: CountingOrigin;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  origin = await startCountingOrigin();
  dir = await mkdtemp(join(tmpdir(), 'sluice-cache-crash-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await origin?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Starts `sluice cache serve` and resolves with the URL it prints first. */
function serveProcess(args: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'cache',
        'serve',
        '--dir',
        dir,
        '--block-size',
        '64K',
        '--max-size',
        '64M',
        '--port',
        '0',
        ...args,
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let out = '';
    let err = '';
    child.stderr?.on('data', (d) => {
      err += d;
    });
    child.stdout?.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, url: out.slice(0, nl) });
    });
    child.once('exit', (code) => reject(new Error(`cache serve exited with ${code}: ${err}`)));
  });
}

async function objectFiles(url: string): Promise<{ blocks: string[]; temps: string[]; path: string }> {
  const h = createHash('sha256').update(url).digest('hex').slice(0, 32);
  const path = join(dir, 'blocks', h.slice(0, 2), h);
  const files = await readdir(path).catch(() => [] as string[]);
  return {
    blocks: files.filter((f) => /^[0-9a-f]{16}\.\d+$/.test(f)),
    temps: files.filter((f) => f.endsWith('.tmp')),
    path,
  };
}

const exited = (c: ChildProcess) =>
  new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)));

describe('sluice cache serve, killed and restarted', () => {
  it('serves only intact blocks after kill -9 during writes, and keeps the warm ones', async () => {
    const body = randomBytes(40 * BS);
    origin.put('/big.bin', body);
    const objectUrl = `${origin.url}/big.bin`;
    const a = await serveProcess();
    const via = (base: string) => `${base}/http/${origin.url.slice(7)}/big.bin`;

    // Blocks 0-7 read (and 8-11 read ahead), all stored.
    expect(
      (await read(via(a.url), { range: `bytes=0-${8 * BS - 1}` })).body.equals(body.subarray(0, 8 * BS)),
    ).toBe(true);
    await vi.waitFor(async () => expect((await objectFiles(objectUrl)).blocks).toHaveLength(12), {
      timeout: 5000,
    });

    // A slow origin, a whole read, and SIGKILL while blocks are half written.
    origin.pieceBytes = 8192;
    origin.pieceDelayMs = 10;
    const dying = read(via(a.url)).catch((e: Error) => e);
    await vi.waitFor(
      async () => {
        const { temps, path } = await objectFiles(objectUrl);
        const sizes = await Promise.all(temps.map(async (t) => (await stat(join(path, t))).size));
        expect(sizes.some((s) => s > 32 + 8192)).toBe(true);
      },
      { timeout: 10_000, interval: 20 },
    );
    a.child.kill('SIGKILL');
    await exited(a.child);
    expect(await dying).toBeInstanceOf(Error);
    const crashed = await objectFiles(objectUrl);
    expect(crashed.temps.length).toBeGreaterThan(0);

    // A block damaged on disk (say, by a power cut): its checksum must catch it.
    const damaged = crashed.blocks.find((f) => f.endsWith('.3'))!;
    const fh = await open(join(crashed.path, damaged), 'r+');
    await fh.write(Buffer.from([0xff ^ body[3 * BS + 100]!]), 0, 1, 32 + 100);
    await fh.close();

    origin.pieceDelayMs = 0;
    origin.reset();
    const b = await serveProcess();
    const again = await read(via(b.url));
    expect(again.body.equals(body)).toBe(true);
    // Leftovers of the crash are gone; the complete blocks were kept (not fetched again) but 3.
    const after = await objectFiles(objectUrl);
    expect(after.temps.filter((t) => crashed.temps.includes(t))).toEqual([]);
    // (The last blocks of this read may still be on their way to their final names.)
    await vi.waitFor(async () => expect((await objectFiles(objectUrl)).temps).toEqual([]));
    const fetched = origin.requests
      .filter((r) => r.method === 'GET')
      .map((r) => Number(/bytes=(\d+)-/.exec(r.range!)![1]) / BS);
    expect(fetched).toContain(3);
    for (const n of crashed.blocks.map((f) => Number(f.split('.')[1])))
      if (n !== 3) expect(fetched).not.toContain(n);
    expect(origin.bytesSent).toBeLessThan(body.length - 10 * BS);
    const stats = (await (await fetch(`${b.url}/-/stats`)).json()) as Record<string, number>;
    expect(stats.corruptBlocks).toBe(1);

    // sluice cache stats / clear on the directory, live and then stopped.
    const live = await runCli(['cache', 'stats', '--dir', dir, '--json']);
    expect(live.code).toBe(0);
    expect(JSON.parse(live.stdout)).toMatchObject({ blocks: 40, server: { url: b.url, corruptBlocks: 1 } });
    b.child.kill('SIGTERM');
    await exited(b.child);
    const offline = await runCli(['cache', 'stats', '--dir', dir]);
    expect(offline.stdout).toMatch(/40 blocks of 1 objects\nno cache server is running on it/);
    const cleared = await runCli(['cache', 'clear', '--dir', dir]);
    expect(cleared).toMatchObject({ code: 0, stderr: expect.stringMatching(/cleared 40 blocks/) });
    expect(JSON.parse((await runCli(['cache', 'stats', '--dir', dir, '--json'])).stdout)).toMatchObject({
      blocks: 0,
      server: null,
    });
  });

  it('one-line errors for bad flags (exit 2) and for a directory that is not a cache', async () => {
    for (const [args, message] of [
      [['--max-size', 'lots'], /--max-size must be a size like 64M/],
      [['--block-size', '8M', '--max-size', '1M'], /--max-size must be at least --block-size/],
      [['--port', '70000'], /--port must be an integer from 0 to 65535/],
      [['--meta-ttl', '-1'], /--meta-ttl must be a number of seconds/],
    ] as const) {
      const r = await runCli(['cache', 'serve', '--dir', dir, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const r = await runCli(['cache', 'clear', '--dir', join(dir, 'not-a-cache')]);
    expect(r).toMatchObject({ code: 1, stderr: expect.stringMatching(/is not a sluice cache directory/) });
  });
});
