// More of `sluice exec`: search, tree, algorithm, pause/resume, and stopping many jobs at once
// (HKube's /exec/search, /exec/tree, /exec/algorithm, /exec/pause, /exec/resume, bulk /exec/stop).
import type { Command } from 'commander';
import type { SluiceClient } from '../connection.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { printJson, printTable } from '../output.ts';

interface Common {
  endpoint?: string;
  json?: boolean;
}

type WithClient = (o: Common, fn: (c: SluiceClient) => Promise<void>) => Promise<void>;
type Submit = (o: Common & { wait?: boolean }, path: string, body: unknown) => Promise<void>;

const JOB_COLUMNS = ['jobId', 'pipelineName', 'status', 'priority', 'createdAt', 'reason'];

function parseJsonOption(text: string, flag: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${flag} must be JSON (got ${text})`);
  }
}

interface TreeNode {
  jobId: string;
  pipelineName: string;
  status: string;
  children: TreeNode[];
}

function printTree(ctx: CliContext, n: TreeNode, indent = ''): void {
  ctx.stdout.write(`${indent}${n.jobId}  ${n.pipelineName}  ${n.status}\n`);
  for (const c of n.children) printTree(ctx, c, `${indent}  `);
}

export function registerExecMore(
  exec: Command,
  ctx: CliContext,
  endpointOpt: (c: Command) => Command,
  withClient: WithClient,
  submit: Submit,
): void {
  endpointOpt(
    exec
      .command('search')
      .description('find jobs by pipeline, status and creation time, a page at a time')
      .option('--pipeline <name>', 'only jobs of this pipeline')
      .option('--status <status>', 'pending, active, completed, failed or stopped')
      .option('--from <time>', 'created at or after (ISO date or epoch ms)')
      .option('--to <time>', 'created at or before (ISO date or epoch ms)')
      .option('--sort <order>', 'asc or desc (default desc: newest first)')
      .option('--limit <n>', 'page size (default 100)')
      .option('--cursor <cursor>', 'the cursor printed with the previous page'),
  ).action(
    (
      o: Common & {
        pipeline?: string;
        status?: string;
        from?: string;
        to?: string;
        sort?: string;
        limit?: string;
        cursor?: string;
      },
    ) =>
      withClient(o, async (c) => {
        const r = await c.call<{ hits: Record<string, unknown>[]; cursor?: string }>(
          'GET',
          '/exec/search',
          undefined,
          {
            pipelineName: o.pipeline,
            status: o.status,
            from: o.from,
            to: o.to,
            sort: o.sort,
            limit: o.limit,
            cursor: o.cursor,
          },
        );
        if (o.json) return printJson(ctx, r);
        printTable(ctx, r.hits, JOB_COLUMNS);
        if (r.cursor) ctx.stderr.write(`more: --cursor ${r.cursor}\n`);
      }),
  );

  endpointOpt(
    exec
      .command('tree')
      .description('the jobs started by pipeline triggers and pipeline nodes, from the root of JOBID’s chain')
      .argument('<jobId>'),
  ).action((jobId: string, o: Common) =>
    withClient(o, async (c) => {
      const t = await c.call<TreeNode>('GET', `/exec/tree/${encodeURIComponent(jobId)}`);
      if (o.json) return printJson(ctx, t);
      printTree(ctx, t);
    }),
  );

  endpointOpt(
    exec
      .command('algorithm')
      .description('run one algorithm as a one-node job; waits and prints the result unless --no-wait')
      .argument('<name>', 'algorithm name')
      .option('--input <json>', 'the node input, a JSON array (default [])')
      .option('--priority <n>', 'priority 1-5 (5 most urgent)')
      .option('--no-wait', 'print the jobId and return at once (needs a running engine)'),
  ).action((name: string, o: Common & { input?: string; priority?: string; wait?: boolean }) => {
    const body: Record<string, unknown> = { name };
    if (o.input !== undefined) body.input = parseJsonOption(o.input, '--input');
    if (o.priority !== undefined) body.priority = Number(o.priority);
    return submit(o, '/exec/algorithm', body);
  });
}

/** `exec pause` and `exec resume`. */
export function registerExecPause(
  exec: Command,
  ctx: CliContext,
  endpointOpt: (c: Command) => Command,
  withClient: WithClient,
) {
  for (const [action, text] of [
    ['pause', 'pause a job: no new task of it starts; running tasks finish'],
    ['resume', 'resume a paused job'],
  ] as const) {
    endpointOpt(exec.command(action).description(text).argument('<jobId>')).action(
      (jobId: string, o: Common) =>
        withClient(o, async (c) => {
          const r = await c.call<{ jobId: string; status: string; paused: boolean }>(
            'POST',
            `/exec/${action}`,
            {
              jobId,
            },
          );
          if (o.json) return printJson(ctx, r);
          ctx.stdout.write(`${r.jobId} ${r.paused ? 'paused' : r.status}\n`);
        }),
    );
  }
}

/** `exec stop`: one job, or every unfinished job matching the filters. */
export function registerExecStop(
  exec: Command,
  ctx: CliContext,
  endpointOpt: (c: Command) => Command,
  withClient: WithClient,
) {
  endpointOpt(
    exec
      .command('stop')
      .description(
        'stop a job, or every unfinished job matching the filters; their unfinished tasks are stopped',
      )
      .argument('[jobId]')
      .option('--pipeline <name>', 'stop the unfinished jobs of this pipeline')
      .option('--status <status>', 'only jobs in this status: pending or active')
      .option('--from <time>', 'only jobs created at or after (ISO date or epoch ms)')
      .option('--to <time>', 'only jobs created at or before (ISO date or epoch ms)')
      .option('--reason <text>'),
  ).action(
    (
      jobId: string | undefined,
      o: Common & { pipeline?: string; status?: string; from?: string; to?: string; reason?: string },
    ) =>
      withClient(o, async (c) => {
        const range = {
          ...(o.from !== undefined ? { from: o.from } : {}),
          ...(o.to !== undefined ? { to: o.to } : {}),
        };
        const filters = {
          ...(o.pipeline !== undefined ? { pipelineName: o.pipeline } : {}),
          ...(o.status !== undefined ? { status: o.status } : {}),
          ...(Object.keys(range).length ? { startTime: range } : {}),
        };
        if (jobId === undefined && Object.keys(filters).length === 0) {
          throw new CliError('give a jobId, or filters: --pipeline, --status, --from, --to');
        }
        const body = {
          ...(jobId !== undefined ? { jobId } : {}),
          ...filters,
          ...(o.reason ? { reason: o.reason } : {}),
        };
        const r = await c.call<{ stopped?: { jobId: string; status: string }[] }>('POST', '/exec/stop', body);
        if (o.json || !r.stopped) return printJson(ctx, r);
        printTable(ctx, r.stopped, ['jobId', 'status']);
        ctx.stderr.write(`${r.stopped.length} job(s) stopped\n`);
      }),
  );
}
