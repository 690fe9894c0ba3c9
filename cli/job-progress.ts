// Follows a job through the API until it ends: a redrawn progress line on a TTY (tasks done of
// created, succeeded, failed, retried, throughput, ETA), plain lines on change otherwise.
import type { JobStatusView } from '../shared/api/service.ts';
import type { SluiceClient } from './connection.ts';
import type { CliContext } from './context.ts';

const FINAL = ['completed', 'failed', 'stopped'];

export function formatStatusLine(s: JobStatusView, elapsedMs: number): string {
  const t = s.tasks;
  const done = t.succeeded + t.failed + t.stopped;
  const rate = done / Math.max(elapsedMs / 1000, 1e-3);
  const remaining = t.remaining;
  const eta = rate > 0 && remaining > 0 ? ` ETA ${Math.ceil(remaining / rate)}s` : '';
  return (
    `${s.jobId} ${s.status} ${s.progress}% | tasks ${done}/${t.created} ` +
    `(remaining ${t.remaining}, running ${t.running}, succeeded ${t.succeeded}, failed ${t.failed}, retried ${t.retried}) | ${rate.toFixed(0)} tasks/s${eta}`
  );
}

export async function followJob(
  ctx: CliContext,
  client: SluiceClient,
  jobId: string,
  opts: { quiet?: boolean; intervalMs?: number } = {},
): Promise<JobStatusView> {
  const t0 = Date.now();
  let last = '';
  for (;;) {
    const s = await client.call<JobStatusView>('GET', `/exec/status/${encodeURIComponent(jobId)}`);
    if (!opts.quiet) {
      const line = formatStatusLine(s, Date.now() - t0);
      if (ctx.isTTY) ctx.stderr.write(`\r\x1b[2K${line}`);
      else if (line.replace(/\d+ tasks\/s.*$/, '') !== last.replace(/\d+ tasks\/s.*$/, ''))
        ctx.stderr.write(`${line}\n`);
      last = line;
    }
    if (FINAL.includes(s.status)) {
      if (!opts.quiet && ctx.isTTY) ctx.stderr.write('\n');
      return s;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}
