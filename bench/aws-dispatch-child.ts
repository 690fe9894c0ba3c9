// Runs in a child process for the aws-dispatch suite (the emulators stay in the parent, so each
// gets a core): the AWS path in-process (status function on an SQS poller, one worker) runs a
// `#[1...N]` echo batch plus a reduce; prints the figures as JSON. With `expand-only` no worker
// runs: it times the expansion alone (split into parts of SLUICE_EXPAND_MAX_ITEMS, each continued
// by the expand function through the event queue) until the batch node is sealed.

import { allBuiltins } from '../shared/builtins/registry.ts';
import { isJobFinal } from '../shared/engine/transitions.ts';
import { InlineRunner } from '../shared/runner/inline-runner.ts';
import { startLocalAwsStack } from '../shared/runtime/aws-emulated/stack.ts';
import { dispatchFigures } from './dispatch-figures.ts';

const items = Number(process.argv[2] ?? 5000);
const slots = Number(process.argv[3] ?? 64);
const expandOnly = process.argv[4] === 'expand-only';
const builtins = allBuiltins();
const stack = await startLocalAwsStack({
  noWorker: expandOnly,
  builtins,
  runner: new InlineRunner(builtins, slots),
  slots,
  statusConcurrency: Number(process.env.BENCH_STATUS_CONCURRENCY ?? 8),
  s3PollMs: 0,
  agingMs: 0,
  onError: (e) => process.stderr.write(`${(e as Error).message}\n`),
});
const { engine } = stack;
// Expand invocations (each continues a split expansion from its checkpoint).
let reconciles = 0;
const reconcile = engine.coordinator.reconcile.bind(engine.coordinator);
engine.coordinator.reconcile = (id: string) => {
  reconciles++;
  return reconcile(id);
};
const t0 = performance.now();
const job = await engine.coordinator.submit({
  name: 'bench-aws-dispatch',
  options: { ttl: 3600 },
  nodes: [
    { nodeName: 'fan', algorithmName: 'echo', input: [`#[1...${items}]`] },
    { nodeName: 'reduce', algorithmName: 'echo', input: ['@fan'] },
  ],
});
if (expandOnly) {
  // Sealed: every part exists (the node's total is known from the first part on).
  const sealed = async () => {
    const n = (await engine.jobs.getJob(job.jobId))?.nodes.get('fan');
    return n?.total === items && n.expandedItems === undefined;
  };
  while (!(await sealed())) await new Promise((r) => setTimeout(r, 100));
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ items, seconds, itemsPerSecond: items / seconds, continuations: reconciles }));
  await stack.close();
  process.exit(0);
}
let final = await engine.jobs.getJob(job.jobId);
while (!final || !isJobFinal(final) || (await engine.jobs.getResults(job.jobId)) === undefined) {
  await new Promise((r) => setTimeout(r, 100));
  final = await engine.jobs.getJob(job.jobId);
}
const seconds = (performance.now() - t0) / 1000;
const tasks = await engine.tasks.listTasks(job.jobId, 'fan');
console.log(
  JSON.stringify(
    dispatchFigures({
      status: final.status,
      items,
      seconds,
      latenciesMs: tasks.map((t) => (t.startedAt ?? 0) - t.queuedAt),
      results: await engine.jobs.getResults(job.jobId),
    }),
  ),
);
await stack.close();
process.exit(0);
