// Runs inside a fresh process for the many-nodes suite: a pipeline of N `echo` nodes (a binary
// tree: node k takes the output of node (k-1)/2) through the embedded engine with its real worker
// pool; prints the submission time, the run time and the tasks/s as JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEngine } from '../shared/runtime/embedded/local-engine.ts';

const nodes = Number(process.argv[2] ?? 10_000);
const workers = Number(process.argv[3] ?? 2);
const home = mkdtempSync(join(tmpdir(), 'sluice-bench-nodes-'));
const engine = await LocalEngine.open({ home, workers });
engine.start();
const descriptor = {
  name: 'bench-nodes',
  options: { ttl: 3600 },
  nodes: Array.from({ length: nodes }, (_, k) => ({
    nodeName: `n${k}`,
    algorithmName: 'echo',
    input: k === 0 ? [k] : [`@n${(k - 1) >> 1}`],
  })),
};
const t0 = performance.now();
const job = await engine.coordinator.submit(descriptor);
const submitSeconds = (performance.now() - t0) / 1000;
const final = await engine.waitForJob(job.jobId);
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    nodes,
    status: final.status,
    submitSeconds,
    seconds,
    tasksPerSecond: nodes / (seconds - submitSeconds),
  }),
);
await engine.close();
rmSync(home, { recursive: true, force: true });
