import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCases } from '../../conformance/load-cases.ts';
import { runCli } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-validate-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const flowArgs = (c: { flowInputFile?: string }) => (c.flowInputFile ? ['-f', c.flowInputFile] : []);

describe('sluice validate', () => {
  it('accepts the numbers example with exit 0', async () => {
    const r = await runCli(['validate', 'examples/numbers/pipeline.yml']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('examples/numbers/pipeline.yml: valid pipeline "numbers", 3 node(s)\n');
  });

  for (const c of loadCases()) {
    const expected = c.expect.error;
    it(`${expected ? 'rejects' : 'accepts'} conformance case ${c.name}`, async () => {
      const r = await runCli(['validate', relative(process.cwd(), c.pipelineFile), ...flowArgs(c)]);
      if (expected) {
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(expected.message.split(' (also:')[0]);
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      } else {
        expect(r.code).toBe(0);
      }
    });
  }

  it('prints every problem on its own line', async () => {
    const path = file(
      'bad.json',
      JSON.stringify({ name: 'p', priority: 8, nodes: [{ nodeName: 'A', algorithmName: 'alg-a', foo: 1 }] }),
    );
    const r = await runCli(['validate', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `${path}: invalid pipeline\n  priority must be <= 5\n  nodes[0].foo is not a known field\n`,
    );
    expect(r.stdout).toBe('');
  });

  it('answers --json with the normalized descriptor or the problems', async () => {
    const ok = await runCli(['validate', 'examples/numbers/pipeline.yml', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      valid: true,
      kind: 'pipeline',
      descriptor: { priority: 3 },
    });
    const bad = await runCli([
      'validate',
      file('p8.json', '{"name":"p","priority":8,"nodes":[{"nodeName":"A","algorithmName":"alg-a"}]}'),
      '--json',
    ]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      valid: false,
      error: { code: 400, type: 'INVALID_PIPELINE', message: 'priority must be <= 5', field: 'priority' },
      problems: [{ field: 'priority', message: 'priority must be <= 5' }],
    });
  });

  it('gives one clear line for malformed JSON and YAML', async () => {
    const json = await runCli(['validate', file('m.json', '{"name": "x",\n "nodes": [}')]);
    expect(json.code).toBe(1);
    expect(json.stderr).toMatch(/^sluice: .*m\.json: invalid JSON at line 2, column \d+: [^\n]+\n$/);
    const yaml = await runCli(['validate', file('m.yml', 'name: x\nnodes:\n  - a: 1\n   b: 2\n')]);
    expect(yaml.code).toBe(1);
    expect(yaml.stderr).toMatch(/^sluice: .*m\.yml: invalid YAML at line 4, column \d+: [^\n]+\n$/);
  });

  it('says when the file cannot be read', async () => {
    const r = await runCli(['validate', 'no/such/file.yml']);
    expect(r).toMatchObject({ code: 1, stderr: 'sluice: cannot read no/such/file.yml: no such file\n' });
  });

  it('detects algorithm definitions by shape, or with --algorithm', async () => {
    const algo = file('range.yml', 'name: range\nenv: python\nentryPoint: main.py\n');
    const r = await runCli(['validate', algo]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid algorithm "range", env python');
    const bad = await runCli(['validate', file('a.json', '{"name": "Range"}'), '--algorithm']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid algorithm\n  name must be lowercase');
  });

  it('checks @flowInput references against -f', async () => {
    const p = file(
      'fi.yml',
      'name: p\nnodes:\n  - nodeName: A\n    algorithmName: alg-a\n    input: ["@flowInput.files.links"]\n',
    );
    const missing = await runCli(['validate', p, '-f', file('fi1.json', '{"files": {}}')]);
    expect(missing.stderr).toContain('unable to find flowInput.files.links');
    const present = await runCli(['validate', p, '-f', file('fi2.yml', 'files:\n  links: [a]\n')]);
    expect(present.code).toBe(0);
    const notObject = await runCli(['validate', p, '-f', file('fi3.json', '[1]')]);
    expect(notObject.stderr).toContain('a flowInput file must hold an object');
  });

  it('-f replaces the descriptor flowInput, as run -f does: a path only the descriptor had is missing', async () => {
    const p = file(
      'fr.yml',
      'name: p\nnodes:\n  - nodeName: A\n    algorithmName: alg-a\n    input: ["@flowInput.x", "@flowInput.y"]\n' +
        'flowInput: {x: 1, y: 2}\n',
    );
    expect((await runCli(['validate', p])).code).toBe(0);
    const replaced = await runCli(['validate', p, '-f', file('fr.json', '{"x": 10}')]);
    expect(replaced.code).toBe(1);
    expect(replaced.stderr).toContain('unable to find flowInput.y');
    const planned = await runCli(['plan', p, '-f', file('fr2.json', '{"x": 10, "y": 20}'), '--json']);
    expect(JSON.parse(planned.stdout).flowInput).toEqual({ x: 10, y: 20 });
  });

  it('explains itself with an example in --help', async () => {
    const r = await runCli(['validate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: sluice validate [options] <file>');
    expect(r.stdout).toContain('sluice validate examples/numbers/pipeline.yml');
  });
});
