// hkubectl habits against a real serving engine on 127.0.0.1: `store pipelines|algorithms` as
// aliases, `exec get`, `pipeline export`/`import` of pipelines with their algorithms as one file,
// and `exec stored -f` with a whole request body.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../helpers/cli.ts';
import { startTestHost } from '../../helpers/engine.ts';

let h: Awaited<ReturnType<typeof startTestHost>> | undefined;
let dir: string | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('hkubectl habits', () => {
  it('store aliases, export/import, exec stored -f BODY and exec get', async () => {
    h = await startTestHost();
    dir = mkdtempSync(join(tmpdir(), 'sluice-hkubectl-'));
    const d = dir;
    const ep = ['--endpoint', h.host.url];
    const env = { SLUICE_HOME: h.home };
    const cli = (...args: string[]) => runCli([...args, ...ep], { env, cwd: d });
    writeFileSync(
      join(d, 'alg.json'),
      JSON.stringify({ name: 'say', env: 'command', command: ['echo', 'hi'] }),
    );
    writeFileSync(
      join(d, 'p.json'),
      JSON.stringify({
        name: 'greet',
        nodes: [{ nodeName: 'A', algorithmName: 'echo', input: ['@flowInput.x'] }],
        flowInput: { x: 1 },
      }),
    );
    writeFileSync(
      join(d, 'q.json'),
      JSON.stringify({ name: 'speak', nodes: [{ nodeName: 'S', algorithmName: 'say', input: [] }] }),
    );
    const applied = await cli('store', 'algorithms', 'apply', '-f', 'alg.json');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/^registered algorithm say \(version [a-z0-9]{10}\)\n$/);
    expect(await cli('store', 'pipelines', 'add', '-f', 'p.json')).toMatchObject({
      code: 0,
      stdout: 'stored pipeline greet\n',
    });
    expect((await cli('store', 'pipelines', 'store', '-f', 'q.json')).code).toBe(0);
    const listed = JSON.parse((await cli('store', 'pipelines', 'list', '--json')).stdout) as {
      name: string;
    }[];
    expect(listed.map((p) => p.name).sort()).toEqual(['greet', 'speak']);

    // One file with both pipelines and the algorithm they use (echo is built in: not exported).
    expect(await cli('pipeline', 'export', '-o', 'set.yml')).toMatchObject({
      code: 0,
      stdout: 'exported 2 pipeline(s) and 1 algorithm(s) to set.yml\n',
    });
    const bundle = parse(readFileSync(join(d, 'set.yml'), 'utf8')) as {
      pipelines: { name: string }[];
      algorithms: { name: string }[];
    };
    expect(bundle.algorithms.map((a) => a.name)).toEqual(['say']);
    expect((await cli('pipeline', 'export', 'greet', 'nope', '-o', 'x.json')).stderr).toMatch(
      /pipeline "nope" is not stored/,
    );
    await cli('pipeline', 'delete', 'greet');
    const clash = await cli('pipeline', 'import', '-f', 'set.yml');
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/algorithm "say" is already registered \(add --overwrite/);
    await cli('algorithm', 'delete', 'say');
    const partial = await cli('pipeline', 'import', '-f', 'set.yml');
    expect(partial.code).toBe(1);
    expect(partial.stderr).toMatch(/"speak" already exists/);
    expect((await cli('algorithm', 'get', 'say')).code).toBe(1); // nothing imported
    expect(await cli('pipeline', 'import', '-f', 'set.yml', '--overwrite')).toMatchObject({
      code: 0,
      stdout: 'imported 2 pipeline(s) and 1 algorithm(s)\n',
    });
    expect((await cli('pipeline', 'get', 'greet')).code).toBe(0);
    expect((await cli('algorithm', 'get', 'say')).code).toBe(0);

    writeFileSync(join(d, 'body.json'), JSON.stringify({ name: 'greet', flowInput: { x: 42 }, priority: 5 }));
    const run = await cli('exec', 'stored', '-f', 'body.json', '--json');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { jobId: string; results: { result: unknown }[] };
    expect(out.results[0]?.result).toEqual([42]);
    const got = JSON.parse((await cli('exec', 'get', out.jobId)).stdout) as Record<string, unknown>;
    expect(got).toMatchObject({ name: 'greet', flowInput: { x: 42 }, priority: 5 });
    writeFileSync(join(d, 'nobody.json'), JSON.stringify({ flowInput: { x: 1 } }));
    expect((await cli('exec', 'stored', '-f', 'nobody.json')).stderr).toMatch(/needs "name"/);
    writeFileSync(join(d, 'typo.json'), JSON.stringify({ name: 'greet', flowinput: {} }));
    expect((await cli('exec', 'stored', '-f', 'typo.json')).stderr).toMatch(/unknown field "flowinput"/);
  });
});
