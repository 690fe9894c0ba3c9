// Follows a job through the API until it ends: a redrawn progress line on a TTY (tasks done of
// created, succeeded, failed, retried, throughput, ETA), plain lines on change otherwise.
import type { JobStatusView } from '../shared/api/service.ts';
import type { SluiceClient } from './connection.ts';
import type { CliContext } from './context.ts';

const FINAL = ['completed', 'failed', 'stopped'];

/**
 * The progress line, as long as fits in `columns` (a redrawn line that wraps scrolls the screen
 * instead): the full form, then shorter ones, then cut. The percentage counts tasks (see
 * taskProgress); only a running job has an ETA.
 */
export function formatStatusLine(
  s: JobStatusView,
  elapsedMs: number,
  columns = Number.POSITIVE_INFINITY,
): string {
  const t = s.tasks;
  const done = t.succeeded + t.failed + t.stopped;
  const rate = done / Math.max(elapsedMs / 1000, 1e-3);
  const remaining = t.remaining;
  const running = !['completed', 'failed', 'stopped'].includes(s.status);
  const eta = running && rate > 0 && remaining > 0 ? ` ETA ${Math.ceil(remaining / rate)}s` : '';
  const head = `${s.jobId} ${s.status} ${s.progress}%`;
  const forms = [
    `${head} | tasks ${done}/${t.created} ` +
      `(remaining ${t.remaining}, running ${t.running}, succeeded ${t.succeeded}, failed ${t.failed}, retried ${t.retried}) | ${rate.toFixed(0)} tasks/s${eta}`,
    `${head} | ${done}/${t.created} run ${t.running} ok ${t.succeeded} fail ${t.failed} retry ${t.retried} | ${rate.toFixed(0)}/s${eta}`,
    `${s.jobId.slice(0, 12)} ${s.status} ${s.progress}% ${done}/${t.created} fail ${t.failed}${eta}`,
  ];
  const width = Math.max(10, columns - 1); // the last column would wrap on some terminals
  return forms.find((f) => f.length <= width) ?? `${forms.at(-1)!.slice(0, width - 1)}…`;
}

/**
 * Follows a job: from the live event stream where the engine serves one (`opts.events`), else by
 * asking for its status every `intervalMs`. A stream that breaks falls back to asking.
 */
export async function followJob(
  ctx: CliContext,
  client: SluiceClient,
  jobId: string,
  opts: { quiet?: boolean; intervalMs?: number; events?: boolean } = {},
): Promise<JobStatusView> {
  const t0 = Date.now();
  let last = '';
  const show = (s: JobStatusView) => {
    if (!opts.quiet) {
      const line = formatStatusLine(s, Date.now() - t0);
      if (ctx.isTTY) ctx.stderr.write(`\r\x1b[2K${line}`);
      else if (line.replace(/\d+ tasks\/s.*$/, '') !== last.replace(/\d+ tasks\/s.*$/, ''))
        ctx.stderr.write(`${line}\n`);
      last = line;
    }
  };
  if (opts.events) {
    const ended = await followEvents(client, jobId, show);
    if (ended) {
      if (!opts.quiet && ctx.isTTY) ctx.stderr.write('\n');
      return ended;
    }
  }
  for (;;) {
    const s = await client.call<JobStatusView>('GET', `/exec/status/${encodeURIComponent(jobId)}`);
    if (!opts.quiet) {
      const line = formatStatusLine(s, Date.now() - t0, ctx.isTTY ? ctx.columns : undefined);
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

/** The job's final view from its event stream, or undefined if the stream broke first. */
async function followEvents(
  client: SluiceClient,
  jobId: string,
  show: (s: JobStatusView) => void,
): Promise<JobStatusView | undefined> {
  if (!client.events) return undefined;
  const ctl = new AbortController();
  try {
    const stream = client.events({ jobId, types: 'job' }, ctl.signal);
    // Subscribed first, then the current state: an end between the two is still seen.
    const iterator = stream[Symbol.asyncIterator]();
    const first = iterator.next();
    first.catch(() => {}); // awaited below, unless the job has already ended
    const now = await client.call<JobStatusView>('GET', `/exec/status/${encodeURIComponent(jobId)}`);
    show(now);
    if (FINAL.includes(now.status)) return now;
    for (let m = await first; !m.done; m = await iterator.next()) {
      if (m.value.event !== 'job' && m.value.event !== 'reset') continue;
      // `reset`: the events since the last id are gone; the job's state is read again instead.
      const s =
        m.value.event === 'job'
          ? (JSON.parse(m.value.data) as JobStatusView)
          : await client.call<JobStatusView>('GET', `/exec/status/${encodeURIComponent(jobId)}`);
      show(s);
      if (FINAL.includes(s.status)) return s;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    ctl.abort();
  }
}
