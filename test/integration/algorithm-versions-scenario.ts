// The code upload and algorithm versions scenario, run on each backend (embedded serve, the AWS
// path on the emulators): the CLI applies an algorithm with --endpoint from a directory that is
// deleted right after (the server never sees the client's disk), jobs run it, v2 is applied, v1
// restored, and each job records and runs the version it started with. Every answer is checked
// against the OpenAPI document the server serves.

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { ResponseChecker } from '../helpers/openapi-responses.ts';

export interface VersionsTarget {
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  headers: Record<string, string>;
  /** Env for the CLI (the token). */
  env: NodeJS.ProcessEnv;
}

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Json = any;

export class VersionsClient {
  private checker?: ResponseChecker;
  constructor(readonly t: VersionsTarget) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    if (!this.checker) {
      const doc = await fetch(`${this.t.url}/api/v1/openapi.json`, { headers: this.t.headers });
      this.checker = new ResponseChecker(
        (await doc.json()) as ConstructorParameters<typeof ResponseChecker>[0],
      );
    }
    const res = await fetch(`${this.t.url}/api/v1${path}`, {
      method,
      headers: { ...this.t.headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const answer = { status: res.status, body: text ? JSON.parse(text) : undefined };
    const wrong = this.checker.problem(method, `/api/v1${path}`, res.status, answer.body);
    expect(wrong, 'the answer matches the OpenAPI document').toBeUndefined();
    return answer;
  }

  async upload(form: FormData): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${this.t.url}/api/v1/store/algorithms/apply`, {
      method: 'POST',
      headers: this.t.headers,
      body: form,
    });
    const body = JSON.parse(await res.text());
    const wrong = this.checker?.problem('POST', '/api/v1/store/algorithms/apply', res.status, body);
    expect(wrong, 'the answer matches the OpenAPI document').toBeUndefined();
    return { status: res.status, body };
  }

  async run(pipeline: unknown): Promise<{ jobId: string; status: Json; results: Json }> {
    const submitted = await this.call('POST', '/exec/raw', pipeline);
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    return this.wait(submitted.body.jobId);
  }

  async wait(jobId: string): Promise<{ jobId: string; status: Json; results: Json }> {
    for (let i = 0; i < 600; i++) {
      const s = await this.call('GET', `/exec/status/${jobId}`);
      if (['completed', 'failed', 'stopped'].includes(s.body.status)) {
        const r = await this.call('GET', `/exec/results/${jobId}`);
        if (r.body.data !== null) return { jobId, status: s.body, results: r.body };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${jobId} did not finish`);
  }
}

/** A Node.js algorithm directory answering `{version: tag, x}` (after `delayMs`). */
function writeAlgorithm(root: string, name: string, tag: string, delayMs = 0): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'lib', 'tag.js'), `module.exports = ${JSON.stringify(tag)};\n`);
  writeFileSync(
    join(dir, 'index.js'),
    `const tag = require('./lib/tag.js');\n` +
      `module.exports.start = async (args) => {\n` +
      `  await new Promise((r) => setTimeout(r, ${delayMs}));\n` +
      `  return { version: tag, x: args.input[0] };\n};\n`,
  );
  const def = join(root, `${name}.yml`);
  writeFileSync(def, `name: ${name}\nenv: nodejs\ncodePath: ./${name}\nentryPoint: index.js\n`);
  return def;
}

/** `sluice algorithm apply -f DEF --endpoint URL` from a directory removed as soon as it returns. */
async function applyFromTempDir(t: VersionsTarget, name: string, tag: string, delayMs = 0) {
  const root = mkdtempSync(join(tmpdir(), 'sluice-client-code-'));
  try {
    const def = writeAlgorithm(root, name, tag, delayMs);
    const r = await runCli(['algorithm', 'apply', '-f', def, '--endpoint', t.url, '--json'], { env: t.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as { name: string; version: string; fileInfo: { checksum: string } };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const pipelineOf = (alg: string, x: number) => ({
  name: `uses-${alg}`,
  nodes: [{ nodeName: 'V', algorithmName: alg, input: [x] }],
});

export async function versionsScenario(t: VersionsTarget): Promise<void> {
  const c = new VersionsClient(t);
  const alg = `up${Date.now().toString(36)}`;

  // v1, uploaded from a directory that is gone before anything runs.
  const v1 = await applyFromTempDir(t, alg, 'one');
  expect(v1.version).toMatch(/^[a-z0-9]{10}$/);
  expect(v1.fileInfo.checksum).toMatch(/^[0-9a-f]{64}$/);
  expect((await c.call('GET', `/store/algorithms/${alg}`)).body).not.toHaveProperty('codePath');
  const run1 = await c.run(pipelineOf(alg, 1));
  expect(run1.status.status).toBe('completed');
  expect(run1.results.data[0].result).toEqual({ version: 'one', x: 1 });
  expect(run1.status.nodes[0].algorithmVersion).toBe(v1.version);

  // The same code again: no new version.
  const same = await applyFromTempDir(t, alg, 'one');
  expect(same.version).toBe(v1.version);

  // v2 replaces it for later jobs.
  const v2 = await applyFromTempDir(t, alg, 'two');
  expect(v2.version).not.toBe(v1.version);
  const run2 = await c.run(pipelineOf(alg, 2));
  expect(run2.results.data[0].result).toEqual({ version: 'two', x: 2 });
  expect(run2.status.nodes[0].algorithmVersion).toBe(v2.version);

  const listed = await runCli(['algorithm', 'versions', alg, '--endpoint', t.url, '--json'], { env: t.env });
  expect(listed.code).toBe(0);
  const versions = JSON.parse(listed.stdout) as { version: string; semver: string }[];
  expect(versions.map((v) => [v.version, v.semver])).toEqual([
    [v2.version, '1.0.1'],
    [v1.version, '1.0.0'],
  ]);

  // Restore v1 by its semver; later jobs run v1's code (fetched from the object store again).
  const restored = await runCli(['algorithm', 'restore', alg, '1.0.0', '--endpoint', t.url], { env: t.env });
  expect(restored.stderr).toBe('');
  expect(restored.stdout).toContain(`is at version ${v1.version} (1.0.0)`);
  expect((await c.call('GET', `/store/algorithms/${alg}`)).body.version).toBe(v1.version);
  const run3 = await c.run(pipelineOf(alg, 3));
  expect(run3.results.data[0].result).toEqual({ version: 'one', x: 3 });
  expect(run3.status.nodes[0].algorithmVersion).toBe(v1.version);

  // A job keeps the version it started with: the node that uses the algorithm starts only after
  // v2 is current again, and still runs v1.
  const slow = `${alg}-slow`;
  await applyFromTempDir(t, slow, 'slow', 1500);
  const pinned = await c.call('POST', '/exec/raw', {
    name: `pinned-${alg}`,
    nodes: [
      { nodeName: 'Wait', algorithmName: slow, input: [0] },
      { nodeName: 'V', algorithmName: alg, input: ['@Wait.x'] },
    ],
  });
  expect(pinned.status).toBe(201);
  const back = await c.call('POST', '/versions/algorithms/apply', {
    name: alg,
    version: v2.version,
    force: true,
  });
  expect(back.status).toBe(201);
  expect(back.body.semver).toBe('1.0.1');
  const run4 = await c.wait(pinned.body.jobId);
  expect(run4.status.status).toBe('completed');
  expect(run4.results.data[0].result).toEqual({ version: 'one', x: 0 });
  expect(run4.status.nodes.find((n: Json) => n.nodeName === 'V').algorithmVersion).toBe(v1.version);
  // ...and the next job runs v2.
  expect((await c.run(pipelineOf(alg, 5))).results.data[0].result).toEqual({ version: 'two', x: 5 });

  // Versions: one by id, the current one cannot be deleted, another can.
  expect((await c.call('GET', `/versions/algorithms/${alg}/${v1.version}`)).body.algorithm.fileInfo).toEqual(
    v1.fileInfo,
  );
  expect((await c.call('DELETE', `/versions/algorithms/${alg}/${v2.version}`)).status).toBe(409);
  const del = await c.call('DELETE', `/versions/algorithms/${alg}/${v1.version}`);
  expect(del.body).toEqual({ name: alg, version: v1.version, deleted: true });
  expect((await c.call('GET', `/versions/algorithms/${alg}`)).body).toHaveLength(1);
  expect((await c.call('GET', `/versions/algorithms/${alg}/${v1.version}`)).status).toBe(404);
  expect((await c.call('GET', '/versions/algorithms/no-such-alg')).status).toBe(404);
}

/**
 * An archive over what an AWS API takes in a request (5 MiB of random bytes beside the code): on
 * AWS the CLI PUTs it to the presigned URL the API hands out, elsewhere it goes in the form.
 */
export async function largeArchiveScenario(t: VersionsTarget, presigned: boolean): Promise<void> {
  const c = new VersionsClient(t);
  const alg = `big${Date.now().toString(36)}`;
  const root = mkdtempSync(join(tmpdir(), 'sluice-client-big-'));
  try {
    const def = writeAlgorithm(root, alg, 'big');
    writeFileSync(join(root, alg, 'weights.bin'), randomBytes(5 * 1024 * 1024));
    const r = await runCli(['algorithm', 'apply', '-f', def, '--endpoint', t.url, '--json'], { env: t.env });
    expect(r.code, r.stderr).toBe(0);
    if (presigned) expect(r.stderr).toMatch(/uploaded the code archive \(5\.\d MiB\) to the object store/);
    else expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).fileInfo.fileSize).toBeGreaterThan(5 * 1024 * 1024);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const run = await c.run(pipelineOf(alg, 7));
  expect(run.results.data[0].result).toEqual({ version: 'big', x: 7 });
  // An uploadId is used once.
  const target = await c.call('POST', '/store/algorithms/apply/upload', {});
  if (!presigned) {
    expect(target.status).toBe(501);
    return;
  }
  expect(target.status).toBe(201);
  const f = new FormData();
  f.set('payload', JSON.stringify({ name: alg, env: 'nodejs', entryPoint: 'index.js' }));
  f.set('upload', target.body.uploadId);
  const nothing = await c.upload(f);
  expect(nothing.status).toBe(400);
  expect(nothing.body.error.message).toMatch(/nothing was uploaded/);
}
