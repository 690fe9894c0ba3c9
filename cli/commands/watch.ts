// `sluice watch JOBID`: live progress of a job until it ends.
import type { Command } from 'commander';
import type { JobStatusView } from '../../shared/api/service.ts';
import { connect } from '../connection.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { formatFailureSummary, jobFailures } from '../failure-summary.ts';
import { followJob } from '../job-progress.ts';

export function registerWatch(program: Command, ctx: CliContext): void {
  program
    .command('watch')
    .description('follow a job: tasks done, running, succeeded, failed, retried, throughput, ETA')
    .argument('<jobId>')
    .option('--endpoint <url>', 'Sluice API URL (default: $SLUICE_ENDPOINT or this machine)')
    .option('--interval <ms>', 'poll interval where the API serves no event stream', '500')
    .option('--strict', 'exit 1 when any item failed, even within the batchTolerance')
    .option('-q, --quiet', 'no progress line: wait, then print the final status and the failures')
    .option('--no-progress', 'no progress line (same as -q for watch)')
    .option('--json', 'print the final status (with the failed items) as JSON')
    .addHelpText(
      'after',
      "\nFollows the API's event stream (GET /api/v1/events: `sluice serve`, or the AWS API, whose\n" +
        'stream ends every few seconds and is resumed); against an API without one it asks for the\n' +
        'status every --interval ms.\n',
    )
    .action(
      async (
        jobId: string,
        o: {
          endpoint?: string;
          interval: string;
          strict?: boolean;
          quiet?: boolean;
          progress?: boolean;
          json?: boolean;
        },
      ) => {
        const client = await connect(ctx, o.endpoint ? { endpoint: o.endpoint } : {});
        try {
          if (!client.live) {
            const s = await client.call<JobStatusView>('GET', `/exec/status/${encodeURIComponent(jobId)}`);
            if (!['completed', 'failed', 'stopped'].includes(s.status)) {
              throw new CliError(
                `job ${jobId} is ${s.status} but no engine is running for ${client.where}; start one with \`sluice serve\` or \`sluice resume\``,
              );
            }
          }
          const s = await followJob(ctx, client, jobId, {
            intervalMs: Math.max(50, Number(o.interval) || 500),
            quiet: o.quiet === true || o.progress === false || o.json === true,
            events: client.live,
          });
          const failures = await jobFailures(client, jobId, s);
          if (o.json) ctx.stdout.write(`${JSON.stringify({ ...s, failures }, null, 2)}\n`);
          else {
            ctx.stdout.write(`${s.jobId} ${s.status}${s.reason ? `: ${s.reason}` : ''}\n`);
            ctx.stderr.write(formatFailureSummary(jobId, failures));
          }
          if (s.status !== 'completed' || (o.strict && failures.length > 0)) ctx.exitCode = 1;
        } finally {
          await client.close();
        }
      },
    );
}
