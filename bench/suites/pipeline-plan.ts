// Validating and planning a pipeline whose batch is `#[1...100000]`, in a fresh child process so
// its peak RSS is the plan's own. Target: under 1 s and under 300 MB.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchSuite } from '../types.ts';

const run = promisify(execFile);
const ITEMS = 100_000;
const ROUNDS = 3;
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface ChildFigures {
  validateMs: number;
  planMs: number;
  expandMs: number;
  plannedItems: number;
  expandedItems: number;
  planRssMB: number;
  maxRssMB: number;
}

function descriptor(items: number): string {
  return JSON.stringify({
    name: 'bench-plan',
    nodes: [
      {
        nodeName: 'fanout',
        algorithmName: 'work',
        input: [`#[1...${items}]`, '@flowInput.config', { mode: 'fast' }],
      },
      { nodeName: 'reduce', algorithmName: 'sum', input: ['@fanout'] },
    ],
    flowInput: { config: { bucket: 's3://data', retries: 2 } },
  });
}

async function timed(args: string[]): Promise<{ wallMs: number; stdout: string }> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, args, { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  return { wallMs: performance.now() - started, stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const pipelinePlanSuite: BenchSuite = {
  name: 'pipeline-plan',
  description: `validate + plan a pipeline with a #[1...${ITEMS}] batch (child process; time and peak RSS)`,
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-plan-'));
    try {
      const file = join(dir, 'pipeline.json');
      await writeFile(file, descriptor(ITEMS));
      const inProcess: ChildFigures[] = [];
      const cliWall: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const child = await timed(['--import', 'tsx', 'bench/suites/pipeline-plan-child.ts', file]);
        inProcess.push(JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ChildFigures);
        cliWall.push((await timed(['bin/sluice.js', 'plan', file])).wallMs);
      }
      const pick = (k: keyof ChildFigures) => median(inProcess.map((f) => f[k]));
      console.log(`items planned                     ${pick('plannedItems')}`);
      console.log(`validate (parse + schema + DAG)   ${pick('validateMs').toFixed(1)} ms`);
      console.log(`plan                              ${pick('planMs').toFixed(1)} ms`);
      console.log(`full expansion (${pick('expandedItems')} tasks)   ${pick('expandMs').toFixed(1)} ms`);
      console.log(`peak RSS, validate + plan         ${pick('planRssMB').toFixed(0)} MB  (target < 300 MB)`);
      console.log(`peak RSS, + full expansion        ${pick('maxRssMB').toFixed(0)} MB`);
      console.log(
        `\`sluice plan\` end to end          ${median(cliWall).toFixed(0)} ms  (incl. Node + tsx start; target < 1000 ms)`,
      );
      console.log(`(median of ${ROUNDS} runs)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
