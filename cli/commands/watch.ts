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
    .option('--interval <ms>', 'poll interval', '500')
    .option('--strict', 'exit 1 when any item failed, even within the batchTolerance')
    .action(async (jobId: string, o: { endpoint?: string; interval: string; strict?: boolean }) => {
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
        });
        ctx.stdout.write(`${s.jobId} ${s.status}${s.reason ? `: ${s.reason}` : ''}\n`);
        const failures = await jobFailures(client, jobId, s);
        ctx.stderr.write(formatFailureSummary(jobId, failures));
        if (s.status !== 'completed' || (o.strict && failures.length > 0)) ctx.exitCode = 1;
      } finally {
        await client.close();
      }
    });
}
