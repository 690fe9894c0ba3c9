import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCases } from '../../conformance/load-cases.ts';
import { runCli } from '../../helpers/cli.ts';

describe('sluice plan', () => {
  it('prints the numbers example in execution order, nothing run', async () => {
    const r = await runCli(['plan', 'examples/numbers/pipeline.yml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'Plan for pipeline "numbers": 3 node(s), priority 3, batchTolerance 80%, ttl 3600s (dry run: nothing runs)',
        '',
        '1. Range  (algorithm range)',
        '   input: [5]',
        '2. Multiply  (algorithm multiply; batch, indexed)',
        '   parents: Range (#@ batch)',
        '   items: known when Range has run',
        '   input: ["#@Range",2]',
        '3. Reduce  (algorithm reduce; in results)',
        '   parents: Multiply (@ input)',
        '   input: ["@Multiply"]',
        '',
        'Results: Reduce',
        '',
      ].join('\n'),
    );
  });

  it('shows the size and first items of a known batch', async () => {
    const c = loadCases().find((x) => x.name === 'plan-known-batch-size')!;
    const r = await runCli(['plan', relative(process.cwd(), c.pipelineFile), '--items', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('   items: 100 (first 2 shown)\n     #1: [1,"y"]\n     #2: [2,"y"]\n');
  });

  it('prints the plan as JSON with --json', async () => {
    const r = await runCli(['plan', 'examples/numbers/pipeline.yml', '--json']);
    const plan = JSON.parse(r.stdout);
    expect(plan.nodes.map((n: { nodeName: string }) => n.nodeName)).toEqual(['Range', 'Multiply', 'Reduce']);
    expect(plan.nodes[1].expansion).toEqual({
      kind: 'batch-at-run-time',
      waitingFor: ['Range'],
      input: ['#@Range', 2],
    });
  });

  it('explains streaming nodes', async () => {
    const c = loadCases().find((x) => x.name === 'wait-any-zips-by-batch-index')!;
    const r = await runCli(['plan', relative(process.cwd(), c.pipelineFile)]);
    expect(r.stdout).toContain(
      '3. C  (algorithm alg-c; batch, streaming; in results)\n' +
        '   parents: A (*@ waitAny), B (*@ waitAny)\n' +
        '   items: one per item of A and B; item k starts when item k of A and B succeeds\n' +
        '   input: ["*@A",{"b":"*@B"},0]\n',
    );
  });

  it('shows skips known before running', async () => {
    const c = loadCases().find((x) => x.name === 'skip-cascades')!;
    const r = await runCli(['plan', relative(process.cwd(), c.pipelineFile)]);
    expect(r.stdout).toContain('skipped: #@flowInput.files is not an array (result [])');
    expect(r.stdout).toContain('skipped: parent "A" was skipped (result [])');
  });

  for (const c of loadCases()) {
    it(`${c.expect.error ? 'refuses' : 'plans'} conformance case ${c.name}`, async () => {
      const r = await runCli([
        'plan',
        relative(process.cwd(), c.pipelineFile),
        ...(c.flowInputFile ? ['-f', c.flowInputFile] : []),
      ]);
      expect(r.code).toBe(c.expect.error ? 1 : 0);
      if (c.expect.error) expect(r.stderr).toContain(c.expect.error.message.split(' (also:')[0]);
      else expect(r.stdout).toContain(`Plan for pipeline "`);
    });
  }

  it('rejects a bad --items value', async () => {
    const r = await runCli(['plan', 'examples/numbers/pipeline.yml', '--items', 'many']);
    expect(r).toMatchObject({ code: 1, stderr: 'sluice: --items must be a whole number >= 0, got "many"\n' });
  });

  it('explains itself with an example in --help', async () => {
    const r = await runCli(['plan', '--help']);
    expect(r.stdout).toContain('sluice plan pipeline.json -f flow.yml');
  });
});
