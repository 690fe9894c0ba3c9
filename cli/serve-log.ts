// What `sluice serve` logs on stderr: one line per job transition (submitted, active, completed,
// failed, stopped) and per request answered with an error, as text or as JSON lines
// (--log-format json); --quiet keeps only errors.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EngineFeed } from '../shared/engine/feed.ts';
import type { CliContext } from './context.ts';

export type LogFormat = 'text' | 'json';

export interface ServeLog {
  info(event: string, fields: Record<string, unknown>, text: string): void;
  error(event: string, fields: Record<string, unknown>, text: string): void;
}

export function serveLog(ctx: CliContext, format: LogFormat, quiet: boolean): ServeLog {
  const write = (level: 'info' | 'error', event: string, fields: Record<string, unknown>, text: string) => {
    if (quiet && level === 'info') return;
    const time = new Date().toISOString();
    ctx.stderr.write(
      format === 'json'
        ? `${JSON.stringify({ time, level, event, ...fields })}\n`
        : `${time} ${level === 'error' ? 'ERROR ' : ''}${text}\n`,
    );
  };
  return {
    info: (event, fields, text) => write('info', event, fields, text),
    error: (event, fields, text) => write('error', event, fields, text),
  };
}

/** Logs each job's status changes as the engine's feed reports them. */
export function logJobTransitions(feed: EngineFeed, log: ServeLog): () => void {
  const last = new Map<string, string>();
  return feed.on('jobChanged', ({ job }) => {
    if (last.get(job.jobId) === job.status) return;
    last.set(job.jobId, job.status);
    const final = ['completed', 'failed', 'stopped'].includes(job.status);
    if (final) last.delete(job.jobId);
    const fields = {
      jobId: job.jobId,
      pipeline: job.pipeline.name,
      status: job.status,
      ...(job.reason ? { reason: job.reason.split('\n', 1)[0] } : {}),
    };
    const text = `job ${job.jobId} (${job.pipeline.name}) ${job.status}${fields.reason ? `: ${fields.reason}` : ''}`;
    if (job.status === 'failed') log.error('job', fields, text);
    else log.info('job', fields, text);
  });
}

/** A `request` listener of the API server: logs each request answered with an error status. */
export function logRequestError(log: ServeLog): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    res.once('finish', () => {
      if (res.statusCode < 400) return;
      const e = {
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0] ?? '/',
        status: res.statusCode,
      };
      const text = `${e.method} ${e.path} -> ${e.status}`;
      if (e.status >= 500) log.error('request', e, text);
      else log.info('request', e, text);
    });
  };
}
