// `sluice exec ...`: hkubectl's exec commands (raw, stored, status, result, stop, caching, rerun,
// jobs; search, tree and algorithm in exec-more.ts) over the REST API.
import type { Command } from 'commander';
import { connect, connectEngine, type SluiceClient } from '../connection.ts';
import type { CliContext } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { jobFailures, reportFailures } from '../failure-summary.ts';
import { followJob } from '../job-progress.ts';
import { printJson, printTable } from '../output.ts';
import { readFlowInputFile } from './descriptor-file.ts';
import { registerExecMore, registerExecPause, registerExecStop } from './exec-more.ts';
import { registerTaskCommands } from './exec-tasks.ts';
import { runPipelineFile } from './run.ts';
import { parseWorkers } from './workers-flag.ts';

interface Common {
  endpoint?: string;
  json?: boolean;
}

const STRICT = 'exit 1 when any item failed, even within the batchTolerance';
const QUIET = 'print only the results (no progress, no notes)';
const NO_PROGRESS = 'no progress line (the failure summary is still printed)';

const ep = (o: Common) => (o.endpoint ? { endpoint: o.endpoint } : {});

/** Starts a job; waits for it and prints results unless --no-wait (which needs a running engine). */
async function submitAndMaybeWait(
  ctx: CliContext,
  o: Common & { wait?: boolean; workers?: string; strict?: boolean; quiet?: boolean; progress?: boolean },
  path: string,
  body: unknown,
) {
  const workers = parseWorkers(o.workers);
  const { client, host } = await connectEngine(ctx, { ...ep(o), ...(workers ? { workers } : {}) });
  try {
    if (o.wait === false && host) {
      throw new CliError(
        'no Sluice engine is running for this SLUICE_HOME, so --no-wait would leave the job unrun; start one with `sluice serve` (or drop --no-wait)',
      );
    }
    const { jobId } = await client.call<{ jobId: string }>('POST', path, body);
    if (o.wait === false) {
      if (o.json) printJson(ctx, { jobId });
      else ctx.stdout.write(`${jobId}\n`);
      return;
    }
    if (!o.json && !o.quiet) ctx.stderr.write(`job ${jobId} submitted\n`);
    const s = await followJob(ctx, client, jobId, {
      quiet: o.json === true || o.quiet === true || o.progress === false,
    });
    const r = await client.call<{ data: unknown }>('GET', `/exec/results/${encodeURIComponent(jobId)}`);
    const failures = await jobFailures(client, jobId, s);
    printJson(
      ctx,
      o.json
        ? { jobId, status: s.status, ...(s.reason ? { reason: s.reason } : {}), results: r.data, failures }
        : r.data,
    );
    reportFailures(ctx, jobId, failures, {
      status: s.status,
      reason: s.reason,
      json: o.json === true,
      strict: o.strict === true,
    });
  } finally {
    await client.close();
  }
}

async function withClient<T>(
  ctx: CliContext,
  o: Common,
  fn: (c: Awaited<ReturnType<typeof connect>>) => Promise<T>,
) {
  const client = await connect(ctx, ep(o));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

export function registerExec(program: Command, ctx: CliContext): void {
  const exec = program
    .command('exec')
    .description('start, watch, stop and inspect pipeline runs (hkubectl exec)')
    .addHelpText(
      'after',
      '\nWithout --endpoint, commands use the engine running for $SLUICE_HOME (see `sluice serve`),\n' +
        'or start one in this process for as long as the command runs.\n',
    );
  const endpointOpt = (c: Command) =>
    c
      .option('--endpoint <url>', 'Sluice API URL (default: $SLUICE_ENDPOINT or the engine of $SLUICE_HOME)')
      .option('--json', 'print JSON');

  endpointOpt(
    exec
      .command('raw')
      .description('run a pipeline descriptor; waits and prints the results unless --no-wait')
      .argument('[file]', 'pipeline descriptor (JSON or YAML; - reads stdin)')
      .option('--file <file>', 'the descriptor, as hkubectl names it (same as FILE)')
      .option(
        '-f, --flow-input <file>',
        "flowInput file (JSON or YAML; - reads stdin); replaces the descriptor's",
      )
      .option('--no-wait', 'print the jobId and return at once (needs a running engine)')
      .option('-w, --workers <n>', 'worker processes if the engine runs in this process')
      .option('--strict', STRICT)
      .option('-q, --quiet', QUIET)
      .option('--no-progress', NO_PROGRESS),
  ).action(
    async (
      arg: string | undefined,
      o: Common & {
        file?: string;
        flowInput?: string;
        wait?: boolean;
        workers?: string;
        strict?: boolean;
        quiet?: boolean;
        progress?: boolean;
      },
    ) => {
      if (arg !== undefined && o.file !== undefined)
        throw new UsageError('give the descriptor once: FILE or --file');
      const file = arg ?? o.file;
      if (file === undefined) {
        throw new UsageError(
          o.flowInput
            ? `exec raw needs a descriptor: sluice exec raw FILE (-f ${o.flowInput} is the flowInput, as in every command)`
            : 'exec raw needs a descriptor: sluice exec raw FILE',
        );
      }
      if (o.wait === false) {
        const { readDescriptorFile } = await import('./descriptor-file.ts');
        const body = { ...((await readDescriptorFile(ctx, file)) as Record<string, unknown>) };
        if (o.flowInput) body.flowInput = await readFlowInputFile(ctx, o.flowInput);
        return submitAndMaybeWait(ctx, o, '/exec/raw', body);
      }
      return runPipelineFile(
        ctx,
        file,
        {
          ...o,
          ...(o.flowInput ? { flowInput: o.flowInput } : {}),
          quiet: o.json === true || o.quiet === true,
        },
        false,
      );
    },
  );

  endpointOpt(
    exec
      .command('stored')
      .description(
        'run a stored pipeline, optionally with another flowInput (replaces the stored one); without NAME, -f is a whole request body {name, flowInput?, options?, priority?} as in hkubectl',
      )
      .argument('[name]', 'stored pipeline name')
      .option(
        '-f, --flow-input <file>',
        'flowInput file (JSON or YAML); without NAME, the whole request body',
      )
      .option('--priority <n>', 'priority 1-5 (5 most urgent)')
      .option('--no-wait', 'print the jobId and return at once (needs a running engine)')
      .option('-w, --workers <n>', 'worker processes if the engine runs in this process')
      .option('--strict', STRICT)
      .option('-q, --quiet', QUIET)
      .option('--no-progress', NO_PROGRESS),
  ).action(
    async (
      name: string | undefined,
      o: Common & {
        flowInput?: string;
        priority?: string;
        wait?: boolean;
        workers?: string;
        strict?: boolean;
      },
    ) => {
      let body: Record<string, unknown>;
      if (name !== undefined) {
        body = { name };
        if (o.flowInput) body.flowInput = await readFlowInputFile(ctx, o.flowInput);
      } else if (o.flowInput) {
        // hkubectl's `exec stored -f body.yml`: the file is the request (checked by the API).
        body = await readFlowInputFile(ctx, o.flowInput);
        if (typeof body.name !== 'string') {
          throw new CliError(
            `${o.flowInput}: without a NAME argument, -f is a request body and needs "name"`,
          );
        }
      } else {
        throw new CliError(
          'give the stored pipeline NAME, or -f with a request body {name, flowInput?, ...}',
        );
      }
      if (o.priority !== undefined) body.priority = Number(o.priority);
      return submitAndMaybeWait(ctx, o, '/exec/stored', body);
    },
  );

  endpointOpt(
    exec.command('status').description("show a job's status and progress").argument('<jobId>'),
  ).action((jobId: string, o: Common) =>
    withClient(ctx, o, async (c) => {
      const s = await c.call<Record<string, unknown> & { nodes: Record<string, unknown>[] }>(
        'GET',
        `/exec/status/${encodeURIComponent(jobId)}`,
      );
      if (o.json) return printJson(ctx, s);
      const { nodes, ...job } = s;
      for (const [k, v] of Object.entries(job))
        ctx.stdout.write(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
      printTable(ctx, nodes, [
        'nodeName',
        'status',
        'batch',
        'total',
        'succeeded',
        'failed',
        'stopped',
        'retried',
        'reason',
      ]);
      // Jobs the node's tasks started (a pipeline node's sub-jobs, HKube's code API), each a job
      // of its own; a batch node's children are told apart by their task.
      for (const n of nodes) {
        for (const ch of (n.children as { jobId: string; taskId: string; callIndex: number }[] | undefined) ??
          []) {
          const task = n.batch ? `task ${ch.taskId}, ` : '';
          ctx.stdout.write(`child of ${String(n.nodeName)} (${task}call ${ch.callIndex}): ${ch.jobId}\n`);
        }
      }
    }),
  );

  endpointOpt(
    exec
      .command('get')
      .description('print the pipeline descriptor a job ran (defaults filled)')
      .argument('<jobId>'),
  ).action((jobId: string, o: Common) =>
    withClient(ctx, o, async (c) =>
      printJson(ctx, await c.call('GET', `/exec/pipelines/${encodeURIComponent(jobId)}`)),
    ),
  );

  endpointOpt(exec.command('result').description("print a job's results").argument('<jobId>')).action(
    (jobId: string, o: Common) =>
      withClient(ctx, o, async (c) => {
        const r = await c.call<{ status: string; data: unknown }>(
          'GET',
          `/exec/results/${encodeURIComponent(jobId)}`,
        );
        if (!['completed', 'failed', 'stopped'].includes(r.status)) {
          // No results yet: say so instead of printing `null`.
          if (o.json) printJson(ctx, r);
          throw new CliError(
            `job ${jobId} is still running (${r.status}); its results come when it ends (sluice watch ${jobId})`,
          );
        }
        printJson(ctx, o.json ? r : r.data);
        if (r.status !== 'completed') {
          ctx.stderr.write(`job ${jobId} is ${r.status}\n`);
          ctx.exitCode = 1;
        }
      }),
  );

  const withC = (o: Common, fn: (c: SluiceClient) => Promise<void>) => withClient(ctx, o, fn);
  registerExecStop(exec, ctx, endpointOpt, withC);
  registerExecPause(exec, ctx, endpointOpt, withC);
  registerExecMore(exec, ctx, endpointOpt, withC, (o, path, body) => submitAndMaybeWait(ctx, o, path, body));

  endpointOpt(
    exec
      .command('caching')
      .description("run NODE and its descendants again, reusing the other nodes' outputs of JOBID")
      .argument('<jobId>')
      .argument('<node>')
      .option('--no-wait', 'print the new jobId and return at once (needs a running engine)')
      .option('--strict', STRICT)
      .option('-q, --quiet', QUIET)
      .option('--no-progress', NO_PROGRESS),
  ).action((jobId: string, node: string, o: Common & { wait?: boolean; strict?: boolean }) =>
    submitAndMaybeWait(ctx, o, '/exec/caching', { jobId, nodeName: node }),
  );

  endpointOpt(
    exec
      .command('rerun')
      .description('run the pipeline of JOBID again (same descriptor and flowInput)')
      .argument('<jobId>')
      .option('--no-wait', 'print the new jobId and return at once (needs a running engine)')
      .option('--strict', STRICT)
      .option('-q, --quiet', QUIET)
      .option('--no-progress', NO_PROGRESS),
  ).action((jobId: string, o: Common & { wait?: boolean; strict?: boolean }) =>
    submitAndMaybeWait(ctx, o, '/exec/rerun', { jobId }),
  );

  endpointOpt(
    exec
      .command('jobs')
      .description('list jobs, newest first')
      .option('--status <status>', 'pending, active, completed, failed or stopped')
      .option('--pipeline <name>', 'only jobs of this pipeline')
      .option('--limit <n>', 'at most this many (default 100)'),
  ).action((o: Common & { status?: string; pipeline?: string; limit?: string }) =>
    withClient(ctx, o, async (c) => {
      const jobs = await c.call<Record<string, unknown>[]>('GET', '/exec/jobs', undefined, {
        status: o.status,
        pipelineName: o.pipeline,
        limit: o.limit,
      });
      if (o.json) return printJson(ctx, jobs);
      printTable(ctx, jobs, ['jobId', 'pipelineName', 'status', 'priority', 'createdAt', 'reason']);
    }),
  );

  registerTaskCommands(exec, ctx, endpointOpt);
}
