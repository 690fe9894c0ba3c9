// The CLI commands of the job-query routes against a real serving engine on 127.0.0.1: storing an
// array of pipelines, exec algorithm, search, tree, bulk stop, and a pipeline's latest runs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.ts';
import { startTestHost } from '../../helpers/engine.ts';

let h: Awaited<ReturnType<typeof startTestHost>> | undefined;
let dir: string | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a pipeline node from the CLI', () => {
  it('exec status names each child job under its node (by task for a batch); exec tree shows them', async () => {
    h = await startTestHost();
    const ep = ['--endpoint', h.host.url];
    const env = { SLUICE_HOME: h.home };
    dir = mkdtempSync(join(tmpdir(), 'sluice-cli-sub-'));
    const leaf = join(dir, 'leaf.json');
    writeFileSync(
      leaf,
      JSON.stringify({
        name: 'leaf',
        nodes: [{ nodeName: 'L', algorithmName: 'echo', input: ['@flowInput.input'] }],
      }),
    );
    expect((await runCli(['pipeline', 'store', '-f', leaf, ...ep], { env })).code).toBe(0);
    const parent = join(dir, 'parent.json');
    writeFileSync(
      parent,
      JSON.stringify({
        name: 'parent',
        nodes: [{ nodeName: 'P', kind: 'pipeline', spec: { name: 'leaf' }, input: ['#[x, y]'] }],
      }),
    );
    const run = await runCli(['exec', 'raw', parent, '--json', ...ep], { env });
    expect(run.code, run.stderr).toBe(0);
    const done = JSON.parse(run.stdout) as {
      jobId: string;
      results: { batchIndex: number; result: unknown }[];
    };
    expect(done.results.map((r) => r.result)).toEqual([
      [{ nodeName: 'L', algorithmName: 'echo', result: [['x']] }],
      [{ nodeName: 'L', algorithmName: 'echo', result: [['y']] }],
    ]);
    const status = await runCli(['exec', 'status', done.jobId, ...ep], { env });
    const lines = status.stdout.split('\n').filter((l) => l.startsWith('child of P'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(`^child of P \\(task ${done.jobId}\\.P\\.1, call 1\\): leaf-sub\\w+$`),
    );
    const tree = JSON.parse((await runCli(['exec', 'tree', done.jobId, '--json', ...ep], { env })).stdout);
    expect(tree.children.map((c: { pipelineName: string }) => c.pipelineName)).toEqual(['leaf', 'leaf']);
  });
});

describe('exec search/tree/algorithm/stop and pipeline runs from the CLI', () => {
  it('drives the new routes and prints what a user needs', async () => {
    h = await startTestHost();
    dir = mkdtempSync(join(tmpdir(), 'sluice-cli-q-'));
    const ep = ['--endpoint', h.host.url];
    const env = { SLUICE_HOME: h.home };
    const file = join(dir, 'set.json');
    const pipe = (name: string, extra: object = {}) => ({
      name,
      nodes: [{ nodeName: 'A', algorithmName: 'echo', input: [name] }],
      ...extra,
    });
    writeFileSync(file, JSON.stringify([pipe('one'), pipe('two', { triggers: { pipelines: ['one'] } })]));
    const stored = await runCli(['pipeline', 'store', '-f', file, ...ep], { env });
    expect(stored).toMatchObject({ code: 0, stdout: 'stored pipeline one\nstored pipeline two\n' });
    const again = await runCli(['pipeline', 'store', '-f', file, ...ep], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists \(add \?overwrite=true/);
    expect((await runCli(['pipeline', 'store', '-f', file, '--update', ...ep], { env })).code).toBe(0);

    const alg = await runCli(['exec', 'algorithm', 'echo', '--input', '[5]', '--json', ...ep], { env });
    expect(alg.code).toBe(0);
    expect(JSON.parse(alg.stdout)).toMatchObject({ status: 'completed', results: [{ result: [5] }] });

    const run = await runCli(['exec', 'stored', 'one', '--json', ...ep], { env });
    const rootId = (JSON.parse(run.stdout) as { jobId: string }).jobId;
    let tree: { children: { pipelineName: string }[] } = { children: [] };
    for (let i = 0; i < 100 && tree.children.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      tree = JSON.parse((await runCli(['exec', 'tree', rootId, '--json', ...ep], { env })).stdout);
    }
    expect(tree.children.map((c) => c.pipelineName)).toEqual(['two']);
    const text = await runCli(['exec', 'tree', rootId, ...ep], { env });
    expect(text.stdout).toMatch(new RegExp(`^${rootId}  one  completed\\n  \\S+  two  `));

    const search = await runCli(['exec', 'search', '--pipeline', 'one', '--limit', '1', '--json', ...ep], {
      env,
    });
    expect(JSON.parse(search.stdout)).toMatchObject({ hits: [{ jobId: rootId, pipelineName: 'one' }] });

    const status = await runCli(['pipeline', 'status', 'one', '--json', ...ep], { env });
    expect(JSON.parse(status.stdout)).toMatchObject([{ jobId: rootId, status: 'completed' }]);

    const none = await runCli(['exec', 'stop', ...ep], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/give a jobId, or filters/);
    const bulk = await runCli(['exec', 'stop', '--pipeline', 'one', ...ep], { env });
    expect(bulk).toMatchObject({ code: 0, stderr: '0 job(s) stopped\n' });
  });
});
