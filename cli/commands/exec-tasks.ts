// `sluice exec tasks` and `sluice exec logs`: a job's task records (which items failed, with their
// input and error) and each task's captured stdout/stderr, over the REST API.
import type { Command } from 'commander';
import type { TaskLogView } from '../../shared/api/task-logs.ts';
import { connect, type SluiceClient } from '../connection.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { type FailedTask, preview } from '../failure-summary.ts';
import { printJson, printTable } from '../output.ts';

interface Common {
  endpoint?: string;
  json?: boolean;
}

type TaskRow = FailedTask & { status: string; attempts?: number; result?: unknown };

const FINAL = ['completed', 'failed', 'stopped'];

async function withClient(ctx: CliContext, o: Common, fn: (c: SluiceClient) => Promise<void>) {
  const client = await connect(ctx, o.endpoint ? { endpoint: o.endpoint } : {});
  try {
    await fn(client);
  } finally {
    await client.close();
  }
}

export function parseItem(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(v)) throw new CliError(`--item must be a batch index from 1 (got "${v}")`, 2);
  return v;
}

function printLogs(ctx: CliContext, tasks: TaskLogView[]): void {
  for (const t of tasks) {
    const item = t.batchIndex !== undefined ? ` #${t.batchIndex}` : '';
    ctx.stdout.write(`==> ${t.nodeName}${item} (${t.status}, task ${t.taskId}) <==\n`);
    if (t.truncated) ctx.stdout.write('[earlier output was dropped: only the tail of each stream is kept]\n');
    if (t.stdout) ctx.stdout.write(`--- stdout ---\n${t.stdout}`);
    if (t.stderr) ctx.stdout.write(`--- stderr ---\n${t.stderr}`);
    if (!t.stdout && !t.stderr) ctx.stdout.write('(no output)\n');
  }
}

async function followLogs(
  ctx: CliContext,
  c: SluiceClient,
  jobId: string,
  query: Record<string, string | undefined>,
  json: boolean,
): Promise<void> {
  const shown = new Set<string>();
  for (;;) {
    const status = await c.call<{ status: string }>('GET', `/exec/status/${encodeURIComponent(jobId)}`);
    const r = await c.call<{ tasks: TaskLogView[] }>(
      'GET',
      `/exec/logs/${encodeURIComponent(jobId)}`,
      undefined,
      query,
    );
    // A task's output is complete once it finished: each is printed once, as it ends.
    const done = r.tasks.filter(
      (t) => ['succeeded', 'failed', 'stopped'].includes(t.status) && !shown.has(t.taskId),
    );
    for (const t of done) shown.add(t.taskId);
    if (json) for (const t of done) ctx.stdout.write(`${JSON.stringify(t)}\n`);
    else printLogs(ctx, done);
    if (FINAL.includes(status.status)) return;
    if (!c.live) {
      throw new CliError(
        `job ${jobId} is ${status.status} but no engine is running for ${c.where}; start one with \`sluice serve\``,
      );
    }
    await new Promise((res) => setTimeout(res, 500));
  }
}

export function registerTaskCommands(
  exec: Command,
  ctx: CliContext,
  endpointOpt: (c: Command) => Command,
): void {
  endpointOpt(
    exec
      .command('tasks')
      .description("list a job's tasks: node, batch item, status, attempts, input preview and error")
      .argument('<jobId>')
      .option('--node <name>', 'only the tasks of this node')
      .option('--status <status>', 'only tasks with this status: queued, active, succeeded, failed, stopped')
      .option('--item <k>', 'only this batch item (batchIndex, from 1)')
      .addHelpText(
        'after',
        '\nExamples:\n' +
          '  sluice exec tasks JOB --status failed        which items failed, with input and error\n' +
          '  sluice exec tasks JOB --node double --json   full task records as JSON\n',
      ),
  ).action((jobId: string, o: Common & { node?: string; status?: string; item?: string }) =>
    withClient(ctx, o, async (c) => {
      const tasks = await c.call<TaskRow[]>('GET', `/exec/tasks/${encodeURIComponent(jobId)}`, undefined, {
        nodeName: o.node,
        status: o.status,
        item: parseItem(o.item),
      });
      if (o.json) return printJson(ctx, tasks);
      printTable(
        ctx,
        tasks.map((t) => ({
          node: t.nodeName,
          item: t.batchIndex ?? '',
          status: t.status,
          attempts: t.attempts ?? '',
          input: preview(t.input ?? [], 40),
          error: t.failure?.message.split('\n', 1)[0] ?? t.error?.split('\n', 1)[0] ?? '',
        })),
        ['node', 'item', 'status', 'attempts', 'input', 'error'],
      );
    }),
  );

  endpointOpt(
    exec
      .command('logs')
      .description('print the stdout and stderr each task of a job wrote (the tail kept per task)')
      .argument('<jobId>')
      .argument('[node]', 'only the tasks of this node')
      .option('--item <k>', 'only this batch item (batchIndex, from 1)')
      .option('--status <status>', 'only tasks with this status: succeeded, failed, stopped, ...')
      .option('--follow', 'keep printing the logs of tasks as they finish, until the job ends')
      .addHelpText(
        'after',
        "\nA task's output is recorded when the task ends, so --follow prints each task once, as it finishes.\n" +
          'Each task keeps the last 1000 lines / 256 KiB of each stream (64 KiB in all on AWS).\n' +
          '\nExamples:\n' +
          '  sluice exec logs JOB double --item 4         one batch item\n' +
          '  sluice exec logs JOB --status failed         every failed task\n' +
          '  sluice exec logs JOB --follow                as the job runs\n',
      ),
  ).action(
    (
      jobId: string,
      node: string | undefined,
      o: Common & { item?: string; status?: string; follow?: boolean },
    ) =>
      withClient(ctx, o, async (c) => {
        const query = { node, item: parseItem(o.item), status: o.status };
        if (o.follow) return followLogs(ctx, c, jobId, query, o.json === true);
        const r = await c.call<{ jobId: string; tasks: TaskLogView[] }>(
          'GET',
          `/exec/logs/${encodeURIComponent(jobId)}`,
          undefined,
          query,
        );
        if (o.json) return printJson(ctx, r);
        if (r.tasks.length === 0) ctx.stderr.write('no task matches\n');
        printLogs(ctx, r.tasks);
      }),
  );
}
