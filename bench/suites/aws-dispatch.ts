// Dispatch throughput of the AWS path against the AWS-protocol emulators (dynalite, local-aws-sqs,
// s3rver): a `#[1...N]` echo batch plus a reduce, from submission through DynamoDB, the SQS
// priority queues, a worker and the status function; p50/p99 ready→started latency. Each
// emulator and the engine run in their own processes. Compare with
// `npm run bench -- engine-dispatch` (the embedded engine on SQLite).
import { execFile } from 'node:child_process';
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

/** The emulator's own ceiling: conditional UpdateItems per second with 32 in flight. */
async function conditionalUpdatesPerSecond(n = 2000): Promise<number> {
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
            UpdateExpression: 'SET #s = :done',
            ConditionExpression: 'attribute_not_exists(#s) OR #s <> :done',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':done': 'succeeded' },
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

export const awsDispatchSuite: BenchSuite = {
  name: 'aws-dispatch',
  description: 'AWS adapters on the emulators: tasks/s and ready→started latency for a 5,000-item echo batch',
  async run(args) {
    const items = Number(args.find((a) => a.startsWith('--items='))?.slice(8) ?? 5000);
    const slots = Number(args.find((a) => a.startsWith('--slots='))?.slice(8) ?? 64);
    const emu = await startEmulators({ processes: true });
    Object.assign(process.env, emu.env);
    try {
      const ceiling = await conditionalUpdatesPerSecond();
      const rounds: Figures[] = [];
      for (let i = 0; i < 3; i++) {
        const p = await provisionAwsResources({ prefix: `bench-${Date.now().toString(36)}-${i}` });
        const { stdout } = await run(
          process.execPath,
          ['--import', 'tsx', join(repoRoot, 'bench/aws-dispatch-child.ts'), String(items), String(slots)],
          { cwd: repoRoot, env: { ...process.env, ...p.env }, maxBuffer: 16 * 1024 * 1024 },
        );
        rounds.push(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Figures);
      }
      const med = (f: (x: Figures) => number) => median(rounds, f);
      const tps = med((r) => r.tasksPerSecond);
      console.log('what\tvalue');
      console.log(
        `aws path tasks/s (median of 3, ${items} echo + 1 reduce, 1 worker × ${slots} slots)\t${tps.toFixed(0)}`,
      );
      console.log(
        `aws path p50 / p99 ready→started (ms)\t${med((r) => r.p50ReadyToStartedMs)} / ${med((r) => r.p99ReadyToStartedMs)}`,
      );
      console.log(
        `baseline: the DynamoDB emulator's conditional UpdateItem rate here (32 in flight)\t${ceiling.toFixed(0)}/s`,
      );
      console.log(
        `ratio tasks/s ÷ conditional updates/s (the path needs ~1.1 conditional writes per task)\t${(tps / ceiling).toFixed(2)}`,
      );
      console.log(`target >= 300 tasks/s on the emulators\t${tps >= 300 ? 'met' : 'NOT met'}`);
      if (rounds.some((r) => r.status !== 'completed' || r.reducedItems !== items)) {
        console.log('WARNING: a run did not complete with every item reduced');
      }
    } finally {
      await emu.close();
    }
  },
};
