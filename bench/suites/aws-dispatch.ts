// Dispatch throughput of the AWS path against the AWS-protocol emulators (dynalite, local-aws-sqs,
// s3rver), two ways, alternating in one run:
// - in-process: a `#[1...N]` echo batch plus a reduce, submitted to the coordinator, through
//   DynamoDB, the SQS priority queues, a worker running built-ins inline and the status function;
// - end to end: what `sluice serve --backend aws` does for a user — a Python batch POSTed to the
//   api function over HTTP, the event queue and the expand function, the task queues, the real
//   worker pool (Python processes), the status queue, the status route polled until the results.
// Each emulator and the engine run in their own processes. Compare with
// `npm run bench -- engine-dispatch` (the embedded engine on SQLite). `--expand-items=100000`
// times an expansion alone (split across invocations by SLUICE_EXPAND_MAX_ITEMS).
import { execFile } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { provisionAwsResources } from '../../shared/runtime/aws-emulated/provision.ts';
import { startEmulators } from '../../test/helpers/aws-emulators.ts';
import { type DispatchFigures, median } from '../dispatch-figures.ts';
import type { BenchSuite } from '../types.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

type Figures = DispatchFigures;

/**
 * The emulator's own ceiling: conditional UpdateItems per second with 32 in flight, each writing
 * `itemBytes` more (a task's input, to match the items a run writes).
 */
export async function conditionalUpdatesPerSecond(n = 2000, itemBytes = 0): Promise<number> {
  const { createDocumentClient } = await import('../../shared/adapters/aws/clients.ts');
  const { ensureTables } = await import('../../shared/adapters/aws/dynamo-schema.ts');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
  const prefix = `ceiling-${Date.now().toString(36)}`;
  const raw = new DynamoDBClient({ region: process.env.AWS_REGION ?? 'us-east-1' });
  await ensureTables(raw, {
    jobs: `${prefix}-jobs`,
    tasks: `${prefix}-tasks`,
    registry: `${prefix}-registry`,
  });
  const doc = createDocumentClient();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < n) {
        const i = next++;
        await doc.send(
          new UpdateCommand({
            TableName: `${prefix}-tasks`,
            Key: { pk: `p${i % 16}`, sk: i },
            UpdateExpression: itemBytes > 0 ? 'SET #s = :done, #i = :input' : 'SET #s = :done',
            ConditionExpression: 'attribute_not_exists(#s) OR #s <> :done',
            ExpressionAttributeNames: { '#s': 'status', ...(itemBytes > 0 ? { '#i': 'input' } : {}) },
            ExpressionAttributeValues: {
              ':done': 'succeeded',
              ...(itemBytes > 0 ? { ':input': 'x'.repeat(itemBytes) } : {}),
            },
          }),
        );
      }
    }),
  );
  const rate = n / ((performance.now() - t0) / 1000);
  doc.destroy();
  raw.destroy();
  return rate;
}

interface E2eFigures {
  status: string;
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
  p50ReadyToStartedMs: number;
  p99ReadyToStartedMs: number;
  resultItems: number;
  cpuMsPerTask: number;
  cpuMsPerTaskByProcess: Record<string, number>;
  requestsPerTask: Record<string, Record<string, number>>;
}

const flag = (args: string[], name: string, fallback: number) =>
  Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);

async function child<T>(script: string, argv: string[], env: Record<string, string>): Promise<T> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(repoRoot, script), ...argv], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as T;
}

const load = () => loadavg()[0]?.toFixed(1) ?? '?';

export const awsDispatchSuite: BenchSuite = {
  name: 'aws-dispatch',
  description:
    'AWS path on the emulators: tasks/s in-process (5,000 echo items) and end to end through the API and the worker pool (200 Python items)',
  async run(args) {
    const items = flag(args, 'items', 5000);
    const slots = flag(args, 'slots', 64);
    const e2eItems = flag(args, 'e2e-items', 200);
    const e2eSlots = flag(args, 'e2e-slots', 4);
    const rounds = flag(args, 'rounds', 3);
    const expandItems = flag(args, 'expand-items', 0);
    const e2eOnly = args.includes('--e2e-only');
    const emu = await startEmulators({ processes: true });
    Object.assign(process.env, emu.env);
    if (emu.pids) process.env.SLUICE_BENCH_EMULATOR_PIDS = JSON.stringify(emu.pids);
    const fresh = async (tag: string) =>
      (await provisionAwsResources({ prefix: `bench-${Date.now().toString(36)}-${tag}` })).env;
    try {
      if (expandItems > 0) {
        const f = await child<{ seconds: number; itemsPerSecond: number; continuations: number }>(
          'bench/aws-dispatch-child.ts',
          [String(expandItems), '1', 'expand-only'],
          await fresh('x'),
        );
        console.log('what\tvalue');
        console.log(
          `expansion of a ${expandItems}-item batch, in parts of SLUICE_EXPAND_MAX_ITEMS (${process.env.SLUICE_EXPAND_MAX_ITEMS ?? 5000}) (load ${load()})\t${f.seconds.toFixed(1)} s, ${f.itemsPerSecond.toFixed(0)} tasks created/s, ${f.continuations} expand invocations`,
        );
        return;
      }
      const ceiling = await conditionalUpdatesPerSecond();
      const inProcess: Figures[] = [];
      const e2e: E2eFigures[] = [];
      const loads: string[] = [];
      // Alternating, so both modes see the same background load.
      for (let i = 0; i < rounds; i++) {
        if (!e2eOnly) {
          loads.push(load());
          inProcess.push(
            await child<Figures>(
              'bench/aws-dispatch-child.ts',
              [String(items), String(slots)],
              await fresh(`p${i}`),
            ),
          );
        }
        loads.push(load());
        e2e.push(
          await child<E2eFigures>(
            'bench/aws-e2e-child.ts',
            [String(e2eItems), String(e2eSlots)],
            await fresh(`e${i}`),
          ),
        );
      }
      const tps = median(inProcess, (r) => r.tasksPerSecond);
      const e2eTps = median(e2e, (r) => r.tasksPerSecond);
      console.log('what\tvalue');
      console.log(`load average (1 min) before each run\t${loads.join(', ')}`);
      if (!e2eOnly) {
        console.log(
          `in-process tasks/s (median of ${rounds}, ${items} echo + 1 reduce, 1 worker × ${slots} slots)\t${tps.toFixed(0)}`,
        );
        console.log(
          `in-process p50 / p99 ready→started (ms)\t${median(inProcess, (r) => r.p50ReadyToStartedMs)} / ${median(inProcess, (r) => r.p99ReadyToStartedMs)}`,
        );
      }
      console.log(
        `end-to-end tasks/s (median of ${rounds}, ${e2eItems} Python items via the API, worker pool × ${e2eSlots})\t${e2eTps.toFixed(0)} (runs: ${e2e.map((r) => r.tasksPerSecond.toFixed(0)).join(', ')})`,
      );
      console.log(`end-to-end seconds, POST to results\t${median(e2e, (r) => r.seconds).toFixed(2)}`);
      // Where the CPU of a task goes (robust under load, unlike wall time) and what it asks for.
      const byProcess = (r: E2eFigures) =>
        Object.entries(r.cpuMsPerTaskByProcess)
          .filter(([, ms]) => ms > 0)
          .sort((a, b) => b[1] - a[1])
          .map(([k, ms]) => `${k} ${ms}`)
          .join(', ');
      const total = (r: E2eFigures) => Object.values(r.cpuMsPerTaskByProcess).reduce((a, b) => a + b, 0);
      const cores = availableParallelism();
      for (const r of e2e) {
        console.log(`end-to-end CPU ms per task, all processes\t${total(r).toFixed(1)} (${byProcess(r)})`);
        // The floor: what the emulators spend per request times the requests a task makes, and
        // the rate this machine's cores could give if they did nothing else.
        let emulatorMs = 0;
        for (const [emulator, ops] of Object.entries(r.requestsPerTask)) {
          const n = Object.values(ops).reduce((a, b) => a + b, 0);
          const ms = r.cpuMsPerTaskByProcess[emulator] ?? 0;
          emulatorMs += ms;
          if (n > 0)
            console.log(`end-to-end ${emulator} emulator CPU ms per request\t${(ms / n).toFixed(2)}`);
        }
        console.log(
          `end-to-end ceiling on ${cores} idle cores (tasks/s): all processes / the emulators alone\t${((cores * 1000) / total(r)).toFixed(0)} / ${((cores * 1000) / emulatorMs).toFixed(0)}`,
        );
        for (const [emulator, ops] of Object.entries(r.requestsPerTask))
          console.log(
            `end-to-end ${emulator} requests per task\t${Object.values(ops)
              .reduce((a, b) => a + b, 0)
              .toFixed(2)} (${Object.entries(ops)
              .sort((a, b) => b[1] - a[1])
              .map(([op, n]) => `${op} ${n}`)
              .join(', ')})`,
          );
      }
      console.log(
        `baseline: the DynamoDB emulator's conditional UpdateItem rate here (32 in flight)\t${ceiling.toFixed(0)}/s`,
      );
      if (!e2eOnly)
        console.log(
          `ratio tasks/s ÷ conditional updates/s (in-process; the path needs ~1.1 conditional writes per task)\t${(tps / ceiling).toFixed(2)}`,
        );
      console.log(
        `ratio end-to-end tasks/s ÷ conditional updates/s (the emulators' speed in this run)\t${(e2eTps / ceiling).toFixed(2)}`,
      );
      if (!e2eOnly) console.log(`target >= 300 tasks/s in-process\t${tps >= 300 ? 'met' : 'NOT met'}`);
      console.log(`target >= 100 tasks/s end to end\t${e2eTps >= 100 ? 'met' : 'NOT met'}`);
      if (inProcess.some((r) => r.status !== 'completed' || r.reducedItems !== items))
        console.log('WARNING: an in-process run did not complete with every item reduced');
      if (e2e.some((r) => r.status !== 'completed' || r.resultItems !== e2eItems))
        console.log('WARNING: an end-to-end run did not complete with every item in its results');
    } finally {
      await emu.close();
    }
  },
};
