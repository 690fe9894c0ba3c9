// sluice fetch's aria2/curl flags, against real HTTP servers on 127.0.0.1: -c resumes a partial -o
// download (and starts again when the object changed), --header, mirrors (chunks from each, a dead
// mirror dropped), -i FILE with -d DIR, --limit-rate, fail-fast on refused connections and DNS
// failures, and --json on failure.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../helpers/cli.ts';
import {
  type RangeServer,
  type RangeServerOptions,
  startRangeServer,
} from '../../../helpers/range-server.ts';

let work: string;
const servers: RangeServer[] = [];
const body = randomBytes(1024 * 1024 + 123);

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sluice-fetch-flags-'));
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function serve(opts: Partial<RangeServerOptions> = {}): Promise<RangeServer> {
  const s = await startRangeServer({ body, ...opts });
  servers.push(s);
  return s;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const cli = (...args: string[]) => runCli(args, { cwd: work });

describe('fetch -c/--continue', () => {
  it('resumes the partial file an interrupted run left, asking only for the missing bytes', async () => {
    // The first run dies at 300 KiB of the only request (one chunk, no retries).
    const first = await serve({ fault: (n) => (n === 1 ? { dropAfter: 300 * 1024 } : undefined) });
    const out = path.join(work, 'resume.bin');
    const r1 = await cli('fetch', '-c', `${first.url}/f`, '-o', out, '--chunk-size', '4M', '--retries', '0');
    expect(r1.code).toBe(1);
    await expect(stat(out)).rejects.toThrow();
    const partial = path.join(work, '.resume.bin.sluice-part');
    const kept = (await stat(partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(body.length);

    const second = await serve();
    const r2 = await cli('fetch', '-c', `${second.url}/f`, '-o', out, '--json', '--chunk-size', '256K');
    expect(r2.code, r2.stderr).toBe(0);
    expect(JSON.parse(r2.stdout)).toMatchObject({ resumedFrom: kept, bytes: body.length - kept });
    expect((await readFile(out)).equals(body)).toBe(true);
    // Only ranges after what was kept were asked for (besides the one-byte probe).
    const asked = second.requests.map((q) => q.range).filter((x) => x !== 'bytes=0-0');
    expect(asked.every((x) => Number(/bytes=(\d+)-/.exec(x ?? '')?.[1]) >= kept)).toBe(true);
    await expect(stat(partial)).rejects.toThrow();
    await expect(stat(`${partial}.json`)).rejects.toThrow();
  });

  it('starts again when the object changed (another ETag), and verifies --checksum over the whole file', async () => {
    const first = await serve({ fault: (n) => (n === 1 ? { dropAfter: 200 * 1024 } : undefined) });
    const out = path.join(work, 'changed.bin');
    await cli('fetch', '-c', `${first.url}/f`, '-o', out, '--chunk-size', '4M', '--retries', '0');
    const other = Buffer.from(body);
    other[0] = other[0]! ^ 0xff; // same size, another version
    const second = await serve({ body: other, etag: () => '"v2"' });
    const r = await cli('fetch', '-c', `${second.url}/f`, '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/not resuming .*: its ETag changed \("v1" -> "v2"\); starting again/);
    expect(JSON.parse(r.stdout).resumedFrom).toBeUndefined();
    expect((await readFile(out)).equals(other)).toBe(true);

    // Resume + checksum: the digest covers the bytes kept from the first run too.
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(body).digest('hex');
    const third = await serve({ fault: (n) => (n === 1 ? { dropAfter: 100 * 1024 } : undefined) });
    const out2 = path.join(work, 'sum.bin');
    await cli('fetch', '-c', `${third.url}/f`, '-o', out2, '--chunk-size', '4M', '--retries', '0');
    const fourth = await serve();
    const ok = await cli(
      'fetch',
      '-c',
      `${fourth.url}/f`,
      '-o',
      out2,
      '--checksum',
      `sha256=${sha}`,
      '--json',
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).resumedFrom).toBeGreaterThan(0);
    const bad = await cli(
      'fetch',
      '-c',
      `${fourth.url}/f`,
      '-o',
      path.join(work, 'x.bin'),
      '--checksum',
      `sha256=${'0'.repeat(64)}`,
    );
    expect(bad.code).toBe(1);
    expect(await readdir(work)).not.toContain('.x.bin.sluice-part');
  });

  it('-c needs a file output', async () => {
    const r = await cli('fetch', '-c', 'http://127.0.0.1:1/x', '-C', 'd');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/-c\/--continue resumes a file: use it with -o FILE/);
  });
});

describe('fetch --header, mirrors, -i, --limit-rate', () => {
  it('sends --header with every request to the URL (Authorization for a private file)', async () => {
    const s = await serve();
    const out = path.join(work, 'auth.bin');
    const r = await cli(
      'fetch',
      '-H',
      'Authorization: Bearer s3cr3t',
      '--header',
      'X-Trace: 1',
      `${s.url}/f`,
      '-o',
      out,
      '--chunk-size',
      '256K',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(s.requests.length).toBeGreaterThan(2);
    expect(
      s.requests.every((q) => q.headers?.authorization === 'Bearer s3cr3t' && q.headers?.['x-trace'] === '1'),
    ).toBe(true);
    const bad = await cli('fetch', '-H', 'no colon', `${s.url}/f`, '-o', out);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('sluice: --header must be "Name: value" (got "no colon")\n');
  });

  it('spreads the chunks across mirrors and drops one that fails', async () => {
    const a = await serve({ etag: () => '"a"' });
    const b = await serve({ etag: () => '"b"' });
    const out = path.join(work, 'mirrored.bin');
    const r = await cli('fetch', `${a.url}/f`, `${b.url}/f`, '-o', out, '--chunk-size', '64K', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(out)).equals(body)).toBe(true);
    const ranged = (s: RangeServer) =>
      s.requests.filter((q) => q.status === 206 && q.range !== 'bytes=0-0').length;
    expect(ranged(a)).toBeGreaterThan(3);
    expect(ranged(b)).toBeGreaterThan(3);

    // A mirror that answers 404 for chunks is dropped; one that is unreachable from the start too.
    const good = await serve();
    const broken = await serve({ fault: (n) => (n > 0 ? { status: 404 } : undefined) });
    const dead = `http://127.0.0.1:${await closedPort()}/f`;
    const out2 = path.join(work, 'mirrored2.bin');
    const r2 = await cli(
      'fetch',
      `${good.url}/f`,
      '--mirror',
      `${broken.url}/f`,
      '--mirror',
      dead,
      '-o',
      out2,
      '--chunk-size',
      '64K',
      '--json',
    );
    expect(r2.code, r2.stderr).toBe(0);
    expect((await readFile(out2)).equals(body)).toBe(true);
    expect(r2.stderr).toMatch(/dropping mirror .*: connection refused/);
    expect(r2.stderr).toMatch(/dropping mirror .*not found \(HTTP 404\)/);
    expect(JSON.parse(r2.stdout).mirrors).toEqual([`${good.url}/f`]);
  });

  it('-i FILE downloads each listed URL into -d DIR (names from the URL or out=), reports failures at the end', async () => {
    const s = await serve();
    const list = [
      '# two files and one that fails',
      `${s.url}/dir/one.bin`,
      `${s.url}/two?sig=1 out=second.bin`,
      `${s.url}/three`,
      '  out=sub/third.bin',
      `http://127.0.0.1:${await closedPort()}/gone.bin`,
    ].join('\n');
    await writeFile(path.join(work, 'urls.txt'), list);
    const r = await cli('fetch', '-i', 'urls.txt', '-d', 'dl', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.downloads.map((d: { output: string }) => path.relative(work, d.output))).toEqual([
      'dl/one.bin',
      'dl/second.bin',
      'dl/sub/third.bin',
    ]);
    expect(j.failures).toHaveLength(1);
    expect(j.failures[0]).toMatchObject({ error: { code: 'UNREACHABLE' } });
    expect((await readFile(path.join(work, 'dl/one.bin'))).equals(body)).toBe(true);
    await writeFile(path.join(work, 'bad.txt'), `${s.url}/x out=../x`);
    const outside = await cli('fetch', '-i', 'bad.txt');
    expect(outside.code).toBe(1);
    expect(outside.stderr).toBe('sluice: bad.txt:1: out=../x must be a relative name inside the directory\n');
  }, 30_000);

  it('--limit-rate (= --bwlimit) holds the download to the rate', async () => {
    const s = await serve();
    const out = path.join(work, 'slow.bin');
    const t0 = performance.now();
    const r = await cli('fetch', `${s.url}/f`, '-o', out, '--limit-rate', '512K', '--chunk-size', '64K');
    expect(r.code, r.stderr).toBe(0);
    // 1 MiB at 512 KiB/s: at least a second and a half after the first pieces.
    expect(performance.now() - t0).toBeGreaterThan(1500);
    expect((await readFile(out)).equals(body)).toBe(true);
  });
});

describe('fetch failures', () => {
  it('a refused connection and an unknown host fail at once, in one line, without retries', async () => {
    const port = await closedPort();
    const t0 = performance.now();
    const r = await cli('fetch', `http://127.0.0.1:${port}/x.tar`, '-o', path.join(work, 'x'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `sluice: http://127.0.0.1:${port}/x.tar: connection refused by 127.0.0.1:${port} (ECONNREFUSED)\n`,
    );
    // Without fail-fast the default back-off (0.5 + 1 + 2 + 4 + 8 s) would take 15 s.
    expect(performance.now() - t0).toBeLessThan(10_000);
    const dns = await cli('fetch', 'http://no-such-host.invalid/x.tar', '-o', path.join(work, 'x'));
    expect(dns.code).toBe(1);
    expect(dns.stderr).toMatch(
      /^sluice: http:\/\/no-such-host\.invalid\/x\.tar: cannot resolve host no-such-host\.invalid \(DNS: (ENOTFOUND|EAI_AGAIN)\)\n$/,
    );
  });

  it('--json prints a JSON document on failure too, exit 1', async () => {
    const s = await serve({ fault: () => ({ status: 404 }) });
    const r = await cli('fetch', `${s.url}/missing.tar`, '-C', path.join(work, 'nothing'), '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      source: `${s.url}/missing.tar`,
      output: path.join(work, 'nothing'),
      mode: 'extract',
      error: { code: 'NOT_FOUND', message: `${s.url}/missing.tar: not found (HTTP 404)` },
    });
    expect(r.stderr).toBe(`sluice: ${s.url}/missing.tar: not found (HTTP 404)\n`);
  });
});
