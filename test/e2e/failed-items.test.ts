// Failed items are visible from the CLI: a job whose batch items failed within its batchTolerance
// ends with a failure summary (node, item, input, error, stderr tail), `--strict` makes that exit 1,
// `--json` carries the failures, and `exec tasks` / `exec logs` show each item's record and output.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/cli.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const PICKY = `import sys

def start(args):
    n = args["input"][0]
    print(f"working on {n}")
    print(f"note about {n}", file=sys.stderr)
    if n % 3 == 0:
        print(f"cannot handle {n}", file=sys.stderr)
        raise ValueError(f"multiples of three are not allowed: {n}")
    return n * 10
`;

let dir: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-failed-items-'));
  env = { SLUICE_HOME: join(dir, 'home') };
  mkdirSync(join(dir, 'algorithms'));
  mkdirSync(join(dir, 'picky'));
  writeFileSync(join(dir, 'picky', 'main.py'), PICKY);
  writeFileSync(
    join(dir, 'algorithms', 'picky.yml'),
    'name: picky\nenv: python\ncodePath: ../picky\nentryPoint: main.py\n',
  );
  writeFileSync(
    join(dir, 'pipeline.yml'),
    'name: tolerant\noptions:\n  batchTolerance: 80\nnodes:\n' +
      '  - nodeName: Pick\n    algorithmName: picky\n    input: ["#[1...7]"]\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let jobId = '';

describe('a job with failed items within its batchTolerance', () => {
  it('completes with exit 0 and a failure summary on stderr naming item, input, error and stderr', async () => {
    const r = await runCli(['run', join(dir, 'pipeline.yml')], { env });
    expect(r.code, r.stderr).toBe(0);
    jobId = /job (\S+) submitted/.exec(r.stderr)?.[1] ?? '';
    expect(jobId).not.toBe('');
    expect(r.stderr).toContain('2 failed items (Pick: 2):');
    expect(r.stderr).toContain('  Pick #3  input [3]');
    expect(r.stderr).toContain('  Pick #6  input [6]');
    expect(r.stderr).toMatch(/ValueError: multiples of three are not allowed: 3/);
    expect(r.stderr).toContain('    | cannot handle 3');
    expect(r.stderr).toContain(`sluice exec tasks ${jobId} --status failed`);
    expect(r.stderr).toContain(`sluice exec logs ${jobId} Pick --item 3`);
    expect(r.stderr).toMatch(/completed within its batchTolerance \(--strict/);
  });

  it('--strict exits 1; --json carries the failures', async () => {
    const strict = await runCli(['run', '--strict', join(dir, 'pipeline.yml')], { env });
    expect(strict.code).toBe(1);
    const json = await runCli(['run', '--json', '--strict', join(dir, 'pipeline.yml')], { env });
    expect(json.code).toBe(1);
    const out = JSON.parse(json.stdout) as { status: string; failures: Record<string, unknown>[] };
    expect(out.status).toBe('completed');
    expect(out.failures.map((f) => [f.nodeName, f.batchIndex, f.input])).toEqual([
      ['Pick', 3, [3]],
      ['Pick', 6, [6]],
    ]);
    expect(out.failures[0]).toMatchObject({
      type: 'algorithm-error',
      stderrTail: ['note about 3', 'cannot handle 3'],
    });
    expect(json.stderr).not.toMatch(/failed items/); // JSON only: no summary text
  });

  it('exec tasks --status failed lists the failed items with input and error', async () => {
    const r = await runCli(['exec', 'tasks', jobId, '--status', 'failed'], { env });
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^NODE\s+ITEM\s+STATUS\s+ATTEMPTS\s+INPUT\s+ERROR$/);
    expect(rows.slice(1)).toHaveLength(2);
    expect(rows[1]).toMatch(/^Pick\s+3\s+failed\s+1\s+\[3\]\s+ValueError: multiples of three/);
    const all = JSON.parse(
      (await runCli(['exec', 'tasks', jobId, '--node', 'Pick', '--json'], { env })).stdout,
    );
    expect(all.map((t: { status: string }) => t.status)).toEqual([
      'succeeded',
      'succeeded',
      'failed',
      'succeeded',
      'succeeded',
      'failed',
      'succeeded',
    ]);
  });

  it('exec logs shows one item’s stdout and stderr apart; unknown nodes and bad items are clear errors', async () => {
    const r = await runCli(['exec', 'logs', jobId, 'Pick', '--item', '3'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^==> Pick #3 \(failed, task \S+\) <==\n/);
    expect(r.stdout).toContain(
      '--- stdout ---\nworking on 3\n--- stderr ---\nnote about 3\ncannot handle 3\n',
    );
    const json = JSON.parse((await runCli(['exec', 'logs', jobId, '--item', '2', '--json'], { env })).stdout);
    expect(json).toEqual({
      jobId,
      tasks: [
        {
          taskId: expect.any(String),
          nodeName: 'Pick',
          batchIndex: 2,
          status: 'succeeded',
          stdout: 'working on 2\n',
          stderr: 'note about 2\n',
          truncated: false,
        },
      ],
    });
    const unknown = await runCli(['exec', 'logs', jobId, 'Nope'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`sluice: job ${jobId} has no node "Nope"\n`);
    const bad = await runCli(['exec', 'logs', jobId, 'Pick', '--item', 'x'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('sluice: --item must be a batch index from 1 (got "x")\n');
  });

  it('exec logs --follow prints every task once and returns when the job has ended', async () => {
    const r = await runCli(['exec', 'logs', jobId, '--follow', '--status', 'failed'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/^==> /gm)).toHaveLength(2);
  });
});
