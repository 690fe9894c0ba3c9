// Submission and dispatch of a pipeline with many nodes (a binary tree of `echo` nodes, 10,000 by
// default; `--nodes=N`), in a fresh child process: how long submit() takes and the tasks/s after
// it. Node state is stored per node, so both must stay flat as the node count grows (target:
// 10,000 nodes submitted in < 2 s).
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchSuite } from '../types.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface Figures {
  nodes: number;
  status: string;
  submitSeconds: number;
  seconds: number;
  tasksPerSecond: number;
}

export const manyNodesSuite: BenchSuite = {
  name: 'many-nodes',
  description: 'embedded engine: submit time and tasks/s of a 10,000-node pipeline (--nodes=N)',
  async run(args) {
    const counts = args.find((a) => a.startsWith('--nodes='))?.slice(8) ?? '1000,10000';
    const workers = availableParallelism();
    console.log('nodes\tsubmit (s)\trun (s)\ttasks/s\tstatus');
    for (const nodes of counts.split(',').map(Number)) {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', join(repoRoot, 'bench/many-nodes-child.ts'), String(nodes), String(workers)],
        { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 },
      );
      const f = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Figures;
      console.log(
        `${f.nodes}\t${f.submitSeconds.toFixed(2)}\t${f.seconds.toFixed(1)}\t${f.tasksPerSecond.toFixed(0)}\t${f.status}`,
      );
    }
  },
};
