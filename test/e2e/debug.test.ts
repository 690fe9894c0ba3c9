// `sluice debug ALGORITHM` against a real `sluice serve`: the tasks of the algorithm's debug nodes
// (kind debug, options.debugOverride) run in processes the debug command starts, with the code of
// --code-path; the other nodes run on the engine; Ctrl-C detaches and the engine's workers take
// the algorithm's tasks again. The API answers a clear error where no session can exist.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Served, serve, sluice, sluiceEnv, startSluice } from '../helpers/process.ts';

// Generous: the debug command's start-up alone takes seconds on a loaded machine.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 60_000 });

let dir: string;
let served: Served | undefined;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-debug-'));
  env = sluiceEnv(join(dir, 'home'));
});
afterAll(async () => {
  if (served) {
    served.child.kill('SIGTERM');
    await served.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A command algorithm answering where it ran: its parent's pid and which code it is. */
function writeCode(where: string, tag: string): void {
  mkdirSync(where, { recursive: true });
  writeFileSync(
    join(where, 'who.py'),
    `import json, os, sys\nargs = json.load(sys.stdin)\nprint(json.dumps({"tag": "${tag}", "ppid": os.getppid(), "input": args["input"]}))\n`,
  );
}

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await fetch(`${served?.url}/api/v1${path}`, {
    method,
    headers: { ...served?.headers, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: (await r.json()) as T };
}

async function runJob(
  pipeline: unknown,
): Promise<{ status: string; data: { nodeName: string; result: unknown }[] }> {
  const { body } = await api<{ jobId: string }>('POST', '/exec/raw', pipeline);
  for (;;) {
    const r = await api<{ status: string; data: { nodeName: string; result: unknown }[] }>(
      'GET',
      `/exec/results/${body.jobId}`,
    );
    if (r.body.data) return r.body;
    await new Promise((res) => setTimeout(res, 100));
  }
}

function startDebug(args: string[]) {
  return startSluice(['debug', ...args], { env });
}

const pipeline = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  ...extra,
  nodes: [
    { nodeName: 'first', algorithmName: 'echo', input: [1] },
    { nodeName: 'dbg', kind: 'debug', algorithmName: 'who', input: ['@first'] },
    { nodeName: 'plain', algorithmName: 'who', input: ['plain'] },
  ],
});

describe('sluice debug', () => {
  it('runs the debug nodes of an algorithm here, the rest on the engine; detaching gives them back', async () => {
    writeCode(join(dir, 'stored-code'), 'stored');
    writeCode(join(dir, 'my-code'), 'mine');
    const def = join(dir, 'who.yml');
    writeFileSync(
      def,
      `name: who\nenv: command\ncommand: [python3, who.py]\ncodePath: ${join(dir, 'stored-code')}\n`,
    );
    served = await serve(['-w', '2'], { env });
    const applied = await sluice(['algorithm', 'apply', '-f', def], { env });
    expect(applied.code, applied.stderr).toBe(0);

    const dbg = startDebug(['who', '--code-path', join(dir, 'my-code')]);
    for (let i = 0; i < 1200 && !dbg.err().includes('debug session'); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(dbg.err()).toMatch(/debug session debug-\w+: tasks of algorithm who's debug nodes run here/);
    expect((await api<unknown[]>('GET', '/debug')).body).toMatchObject([{ algorithmName: 'who' }]);

    const attached = await runJob(pipeline('debugged'));
    expect(attached.status).toBe('completed');
    const results = Object.fromEntries(attached.data.map((r) => [r.nodeName, r.result]));
    // The debug node ran the developer's code, as a child of the debug command.
    expect(results.dbg).toEqual({ tag: 'mine', ppid: dbg.child.pid, input: [[1]] });
    // The same algorithm on a normal node ran on the engine, with the stored code.
    expect(results.plain).toMatchObject({ tag: 'stored', input: ['plain'] });
    expect((results.plain as { ppid: number }).ppid).not.toBe(dbg.child.pid);
    // The CLI prints the line once its report is answered: the job may complete a moment before.
    const line = /task \S+\.dbg \(job debugged-\S+, node dbg\): succeeded/;
    for (let i = 0; i < 200 && !line.test(dbg.out()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(dbg.out()).toMatch(line);

    // options.debugOverride marks a node too.
    const override = await runJob({ ...pipeline('override'), options: { debugOverride: ['plain'] } });
    const byNode = Object.fromEntries(override.data.map((r) => [r.nodeName, r.result]));
    expect(byNode.plain).toMatchObject({ tag: 'mine', ppid: dbg.child.pid });

    // A second session for the same algorithm is refused.
    const twice = await api<{ error: { type: string } }>('POST', '/debug/attach', { algorithmName: 'who' });
    expect(twice.status).toBe(409);

    dbg.child.kill('SIGINT');
    await new Promise((r) => dbg.child.once('exit', r));
    expect(dbg.err()).toContain('detached');
    expect((await api<unknown[]>('GET', '/debug')).body).toEqual([]);
    const detached = await runJob(pipeline('after-detach'));
    expect(detached.status).toBe('completed');
    const after = Object.fromEntries(detached.data.map((r) => [r.nodeName, r.result]));
    expect(after.dbg).toMatchObject({ tag: 'stored', input: [[1]] });
  });

  it('answers one-line errors: an unknown algorithm, an unknown session, unknown fields', async () => {
    const unknown = await sluice(['debug', 'nope', '--endpoint', served?.url ?? ''], { env });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim()).toBe('sluice: algorithm "nope" is not registered');
    const lease = await api<{ error: { code: number; type: string } }>('POST', '/debug/lease', {
      sessionId: 'x',
    });
    expect(lease.status).toBe(404);
    expect(lease.body.error.type).toBe('DEBUG_SESSION_NOT_FOUND');
    const extra = await api('POST', '/debug/attach', { algorithmName: 'who', port: 1 });
    expect(extra.status).toBe(400);
  });
});
