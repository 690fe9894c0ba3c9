// `sluice debug ALGORITHM --endpoint URL`: attaches this machine to a running engine (`sluice
// serve`, or a deployed AWS API) as the worker of one algorithm's debug nodes (`kind: debug`,
// `options.debugOverride`): their tasks come here and run in processes this command starts (its
// own children, with the developer's code from --code-path), while the rest of the pipeline runs
// on the engine. Ctrl-C detaches: the tasks not finished here go back to the engine's workers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { AlgorithmDefinition } from '../../shared/pipeline/types.ts';
import type { DebugSessionView, DebugTask } from '../../shared/ports/debug-sessions.ts';
import type { TaskRunner } from '../../shared/ports/task-runner.ts';
import { connect, type SluiceClient } from '../connection.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';

/** How long one lease request waits for a task (the API's limit is 20 s). */
const LEASE_WAIT_MS = 10_000;
/** How often a session is kept attached while a task runs here (the engine's idle limit is 30 s). */
const KEEP_ALIVE_MS = 10_000;

function where(t: DebugTask): string {
  const item = t.info.batchIndex !== undefined ? ` item ${t.info.batchIndex}` : '';
  return `task ${t.info.taskId} (job ${t.info.jobId}, node ${t.info.nodeName}${item})`;
}

/** The definition the tasks run with: the stored one, its code taken from `codePath` if given. */
async function definition(
  client: SluiceClient,
  name: string,
  codePath: string | undefined,
  cwd: string,
): Promise<AlgorithmDefinition | { name: string; env: 'builtin' }> {
  const stored = await client
    .call<AlgorithmDefinition>('GET', `/store/algorithms/${encodeURIComponent(name)}`)
    .catch(() => undefined);
  if (!stored) return { name, env: 'builtin' }; // attach has checked it exists: a built-in
  if (!codePath && stored.fileInfo) {
    throw new CliError(
      `algorithm ${name}'s code was uploaded (it is in the engine's store, not on this machine): pass --code-path DIR, your copy of it`,
    );
  }
  if (!codePath) return stored;
  const { fileInfo: _uploaded, ...local } = stored; // the local copy replaces the uploaded code
  return { ...local, codePath: resolve(cwd, codePath) };
}

async function runOne(
  ctx: CliContext,
  client: SluiceClient,
  session: DebugSessionView,
  runner: TaskRunner,
  def: AlgorithmDefinition | { name: string; env: 'builtin' },
  task: DebugTask,
  signal: AbortSignal,
): Promise<void> {
  ctx.stderr.write(`${where(task)}: running here\n`);
  // Stopped at a breakpoint for minutes, the session stays attached.
  const keepAlive = setInterval(() => {
    client.call('POST', '/debug/keepalive', { sessionId: session.sessionId }).catch(() => {});
  }, KEEP_ALIVE_MS);
  const outcome = await runner
    .run({ info: task.info, algorithm: def, input: task.input }, signal)
    .finally(() => clearInterval(keepAlive));
  if (signal.aborted) return; // detaching: the engine runs it again on its workers
  const body =
    outcome.status === 'succeeded'
      ? { sessionId: session.sessionId, taskId: task.info.taskId, result: outcome.result }
      : { sessionId: session.sessionId, taskId: task.info.taskId, error: outcome.failure.message };
  await client.call('POST', '/debug/report', body);
  ctx.stdout.write(
    `${where(task)}: ${outcome.status}${outcome.status === 'failed' ? `: ${outcome.failure.message}` : ''}\n`,
  );
}

export function registerDebug(program: Command, ctx: CliContext): void {
  program
    .command('debug')
    .description("run one algorithm's debug-node tasks on this machine while the pipeline runs on the engine")
    .argument('<algorithm>')
    .option('--endpoint <url>', 'Sluice API URL (default: $SLUICE_ENDPOINT or this machine)')
    .option(
      '--code-path <dir>',
      "run the algorithm's code from this directory instead of its stored codePath",
    )
    .addHelpText(
      'after',
      '\nNodes of kind debug (or listed in options.debugOverride) running ALGORITHM get their tasks\n' +
        'sent here while this command runs; other nodes run on the engine. Ctrl-C detaches: tasks not\n' +
        'finished here go back to the engine’s workers. Works against `sluice serve` and the AWS API.\n',
    )
    .action(async (algorithm: string, o: { endpoint?: string; codePath?: string }) => {
      const client = await connect(ctx, o.endpoint ? { endpoint: o.endpoint } : {});
      const { WorkerPool } = await import('../../shared/runner/worker-pool.ts');
      const cacheDir = mkdtempSync(join(tmpdir(), 'sluice-debug-'));
      const runner = new WorkerPool({ maxWorkers: 1, cacheDir });
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let session: DebugSessionView | undefined;
      try {
        session = await client.call<DebugSessionView>('POST', '/debug/attach', { algorithmName: algorithm });
        const def = await definition(client, algorithm, o.codePath, ctx.cwd);
        ctx.stderr.write(
          `debug session ${session.sessionId}: tasks of algorithm ${algorithm}'s debug nodes run here (${client.where}); Ctrl-C detaches\n`,
        );
        while (!stop.signal.aborted) {
          const leased = client.call<{ task: DebugTask | null }>('POST', '/debug/lease', {
            sessionId: session.sessionId,
            waitMs: LEASE_WAIT_MS,
          });
          const aborted = new Promise<undefined>((r) =>
            stop.signal.addEventListener('abort', () => r(undefined)),
          );
          const got = await Promise.race([leased, aborted]);
          if (!got?.task) continue;
          await runOne(ctx, client, session, runner, def, got.task, stop.signal);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        if (session) {
          const { returned } = await client
            .call<{ returned: number }>('POST', '/debug/detach', { sessionId: session.sessionId })
            .catch(() => ({ returned: 0 }));
          ctx.stderr.write(
            `detached${returned ? `: ${returned} unfinished task(s) went back to the engine's workers` : ''}\n`,
          );
        }
        await runner.close();
        await client.close();
        rmSync(cacheDir, { recursive: true, force: true });
      }
    });
}
