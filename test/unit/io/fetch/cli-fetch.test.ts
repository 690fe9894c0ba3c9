// `sluice fetch` as a user runs it: outputs (-x/-C, -o, -O, --json) and the exit status and message
// for each failure the issue lists (404, truncated archive, corrupt gzip/lz4, dropped connections).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
let tar: Buffer;
let server: RangeServer | undefined;
const payload = randomBytes(700 * 1024);

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sluice-fetch-cli-'));
  const src = path.join(work, 'src', 'pkg');
  await mkdir(path.join(src, 'lib'), { recursive: true });
  await writeFile(path.join(src, 'README'), 'read me\n');
  await writeFile(path.join(src, 'lib', 'blob.bin'), payload);
  execFileSync('tar', ['-c', '-f', path.join(work, 'pkg.tar'), '-C', path.join(work, 'src'), 'pkg']);
  tar = await readFile(path.join(work, 'pkg.tar'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const gzip = (b: Buffer) => execFileSync('gzip', ['-c'], { input: b });
const lz4 = (b: Buffer) => execFileSync('lz4', ['-q', '-c'], { input: b });

async function serve(opts: RangeServerOptions): Promise<string> {
  server = await startRangeServer(opts);
  return `${server.url}/pkg.tar`;
}

async function freshDir(name: string): Promise<string> {
  const d = path.join(work, name);
  await rm(d, { recursive: true, force: true });
  return d;
}

describe('sluice fetch (CLI)', () => {
  it('extracts a tar.gz by default (sniffed) and prints a JSON summary', async () => {
    const url = await serve({ body: gzip(tar) });
    const dest = await freshDir('out-gz');
    const r = await runCli(['fetch', url, '-C', dest, '--json', '--chunk-size', '64K']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      compression: 'gzip',
      files: 2,
      directories: 2,
      mode: 'extract',
      parallel: true,
    });
    expect((await readFile(path.join(dest, 'pkg', 'lib', 'blob.bin'))).equals(payload)).toBe(true);
  });

  it('survives a connection dropped mid-chunk (retry from the last byte)', async () => {
    const url = await serve({ body: lz4(tar), fault: (n) => (n === 2 ? { dropAfter: 5000 } : undefined) });
    const dest = await freshDir('out-drop');
    const r = await runCli(['fetch', url, '-x', '-C', dest, '--chunk-size', '64K', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).retries).toBe(1);
    expect(r.stderr).toMatch(/warning: retrying bytes/);
    expect((await readFile(path.join(dest, 'pkg', 'lib', 'blob.bin'))).equals(payload)).toBe(true);
  });

  it('-o saves the bytes as downloaded; -O writes them to stdout', async () => {
    const body = gzip(tar);
    const url = await serve({ body });
    const file = path.join(work, 'saved.tar.gz');
    const r = await runCli(['fetch', url, '-o', file, '--chunk-size', '32K', '-q']);
    expect(r.code).toBe(0);
    expect((await readFile(file)).equals(body)).toBe(true);
    expect((await readdir(work)).filter((f) => f.includes('.part'))).toEqual([]);
    const o = await runCli(['fetch', url, '-O']);
    expect(o.code).toBe(0);
    expect(Buffer.from(o.stdout, 'latin1').length).toBeGreaterThan(0);
  });

  it('--strip-components and refusing to overwrite', async () => {
    const url = await serve({ body: tar });
    const dest = await freshDir('out-strip');
    expect((await runCli(['fetch', url, '-C', dest, '--strip-components', '1', '-q'])).code).toBe(0);
    expect((await readdir(dest)).sort()).toEqual(['README', 'lib']);
    const again = await runCli(['fetch', url, '-C', dest, '--strip-components', '1', '-q']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /(README|blob.bin) already exists \(use --overwrite to replace existing files\)/,
    );
    expect(
      (await runCli(['fetch', url, '-C', dest, '--strip-components', '1', '--overwrite', '-q'])).code,
    ).toBe(0);
  });

  it('404: exit 1 with a clear message', async () => {
    const url = await serve({ body: tar, fault: () => ({ status: 404 }) });
    const r = await runCli(['fetch', url, '-C', await freshDir('out-404')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`sluice: ${url}: not found (HTTP 404)\n`);
  });

  it('a connection that keeps dropping: exit 1 after the retries', async () => {
    const url = await serve({ body: tar, fault: (n) => (n >= 1 ? { dropAfter: 0 } : undefined) });
    const r = await runCli(['fetch', url, '-C', await freshDir('out-dropall'), '--retries', '1', '-q']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^sluice: .*(connection closed|socket hang up|aborted).*gave up after 1 retries/,
    );
  });

  it('a truncated tar: exit 1, "truncated"', async () => {
    const url = await serve({ body: tar.subarray(0, 400_000) }); // inside blob.bin
    const r = await runCli(['fetch', url, '-C', await freshDir('out-trunc')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sluice: the tar archive is truncated/);
  });

  it('a truncated tar.gz and a corrupt gzip stream: exit 1 with the reason', async () => {
    const gz = gzip(tar);
    let url = await serve({ body: gz.subarray(0, gz.length - 100) });
    let r = await runCli(['fetch', url, '-C', await freshDir('out-gz-trunc')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sluice: the gzip stream is truncated/);
    await server?.close();
    const bad = Buffer.from(gz);
    for (let i = 2000; i < 2100; i++) bad[i] = 0xaa;
    url = await serve({ body: bad });
    r = await runCli(['fetch', url, '-C', await freshDir('out-gz-bad')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sluice: corrupt gzip stream/);
  });

  it('a corrupt lz4 stream: exit 1', async () => {
    const bad = Buffer.from(lz4(tar));
    for (let i = 3000; i < 3050; i++) bad[i] = 0x11;
    const url = await serve({ body: bad });
    const r = await runCli(['fetch', url, '-C', await freshDir('out-lz4-bad')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sluice: corrupt lz4 stream/);
  });

  it('a file that is not a tar archive: exit 1 and a hint to use -o', async () => {
    const url = await serve({ body: randomBytes(5000) });
    const r = await runCli(['fetch', url, '-C', await freshDir('out-nottar')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not a tar archive \(save it with -o FILE instead\)/);
  });

  it('rejects conflicting outputs and bad sizes as usage errors (exit 2)', async () => {
    const a = await runCli(['fetch', 'http://127.0.0.1:9/x', '-o', 'f', '-O']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/choose one of -o FILE, -O, -x \[-C DIR\], or -d DIR/);
    const b = await runCli(['fetch', 'http://127.0.0.1:9/x', '--chunk-size', 'lots']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--chunk-size must be a size like 64M/);
  });

  it('--help explains the flags with examples', async () => {
    const r = await runCli(['fetch', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--max-memory <size>/);
    expect(r.stdout).toMatch(/--write-workers <n>/);
    expect(r.stdout).toMatch(/Examples:\n\s+sluice fetch https:\/\//);
  });
});
