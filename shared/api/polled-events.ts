// The event stream where no one process sees every change (AWS: each api function instance sees
// only its own requests, and API Gateway sends a response only once it is complete): a bounded
// stream. It reads the views of the jobs in scope every `pollMs`, answers as soon as one changed
// (or after `windowMs` with nothing new) and ends; the client reconnects with the last id. An id
// names the views the client has seen (a hash of each), so whichever instance answers the
// reconnect sends exactly the jobs that changed since: nothing is lost, and a job's view is
// always its latest (intermediate views may be skipped, as the embedded log's throttle does).
import { createHash } from 'node:crypto';
import { NotFoundError } from '../errors.ts';
import { isJobFinal } from '../ports/job-state.ts';
import type { ApiDeps } from './api-deps.ts';
import { statusOf } from './exec.ts';
import type { JobStatusView } from './job-views.ts';
import { BoundedEventStream, sseText } from './live-events.ts';

export interface PolledEventsOptions {
  /** Longest a request waits for a change (default 20 s; API Gateway ends a request at 29 s). */
  windowMs?: number;
  /** How often the job views are read while it waits (default 1 s). */
  pollMs?: number;
  /** The `retry:` hint: how long a client waits before it reconnects (default 100 ms). */
  retryMs?: number;
  /** Waits `ms` (tests pass a fake clock's). */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface PolledStreamRequest {
  jobId?: string;
  types?: ReadonlySet<string>;
  /** The last id the client saw (Last-Event-ID). */
  resumeFrom?: string;
}

/** Every id starts with this: an id of another stream (the embedded log's) is answered by `reset`. */
const ID_PREFIX = 'p1.';
/** Past this many jobs an id holds one hash of them all; a reconnect that finds a change resets. */
const MAX_JOBS_IN_ID = 40;

/** What a client has seen: job id → hash of its view, or (past MAX_JOBS_IN_ID) one digest. */
type Seen = Map<string, string>;

const hashOf = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 12);

function digest(seen: Seen): string {
  return hashOf(JSON.stringify([...seen].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

export function cursorOf(seen: Seen): string {
  if (seen.size > MAX_JOBS_IN_ID) return `${ID_PREFIX}*${digest(seen)}`;
  return `${ID_PREFIX}${Buffer.from(JSON.stringify([...seen])).toString('base64url')}`;
}

/** The views an id names, its digest alone, or undefined for an id this stream never wrote. */
export function parseCursor(id: string): Seen | { digest: string } | undefined {
  if (!id.startsWith(ID_PREFIX)) return undefined;
  const rest = id.slice(ID_PREFIX.length);
  if (rest.startsWith('*')) return { digest: rest.slice(1) };
  try {
    const entries = JSON.parse(Buffer.from(rest, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(entries)) return undefined;
    const seen: Seen = new Map();
    for (const e of entries) {
      if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string') return undefined;
      seen.set(e[0], e[1]);
    }
    return seen;
  } catch {
    return undefined;
  }
}

/** The current views of the jobs in scope: the one job, or every unfinished job. */
async function readViews(deps: ApiDeps, jobId: string | undefined): Promise<Map<string, JobStatusView>> {
  const views = new Map<string, JobStatusView>();
  if (jobId) {
    const job = await deps.jobs.getJob(jobId);
    if (job) views.set(jobId, await statusOf(deps, job));
    return views;
  }
  for (const job of await deps.jobs.unfinishedJobs()) views.set(job.jobId, await statusOf(deps, job));
  return views;
}

const hashesOf = (views: Map<string, JobStatusView>): Seen =>
  new Map([...views].map(([id, v]) => [id, hashOf(JSON.stringify(v))]));

/**
 * One bounded response of `GET /events`: the events since `resumeFrom`, at most `windowMs` of
 * waiting for them. `task` events are not produced here (no process sees every task change):
 * a stream that asks for them gets a `reset` (reload) at the end of a window in which a job in
 * scope changed.
 */
export async function polledEvents(
  deps: ApiDeps,
  req: PolledStreamRequest,
  opts: PolledEventsOptions = {},
): Promise<BoundedEventStream> {
  const windowMs = Math.min(opts.windowMs ?? 20_000, 25_000);
  const pollMs = opts.pollMs ?? 1000;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const jobEvents = !req.types || req.types.has('job');
  const taskEvents = !req.types || req.types.has('task');
  const out: string[] = [`retry: ${opts.retryMs ?? 100}\n\n`];
  const done = () => new BoundedEventStream(out.join(''));

  let views = await readViews(deps, req.jobId);
  if (req.jobId && views.size === 0) throw new NotFoundError(`job ${req.jobId} not found`, 'JOB_NOT_FOUND');
  // A finished job's view never changes again: a stream of all jobs drops it from its ids (which
  // stay short); a stream of one job keeps it.
  const keepFinal = req.jobId !== undefined;
  const from = req.resumeFrom ? parseCursor(req.resumeFrom) : undefined;
  if (!req.resumeFrom || !from || (!(from instanceof Map) && from.digest !== digest(hashesOf(views)))) {
    // A first connection gets the current views (a change between the client's own read and
    // this one is not lost); an id this stream cannot read, or a digest that no longer matches,
    // gets `reset`: the client reloads what it shows, then follows from here.
    const seen = hashesOf(views);
    if (req.resumeFrom) {
      const reason = from ? 'jobs changed since that id' : 'that id is not one of this stream';
      out.push(sseText({ id: cursorOf(seen), type: 'reset', data: { reason } }));
      return done();
    }
    out.push(sseText({ id: cursorOf(seen), type: 'hello', data: { jobId: req.jobId } }));
    if (jobEvents) for (const v of views.values()) out.push(jobEvent(seen, v, keepFinal));
    return done();
  }
  // The client has seen `seen`; each event's id is `seen` with that event applied.
  const seen: Seen = from instanceof Map ? new Map(from) : hashesOf(views);
  const deadline = now() + windowMs;
  let changed = false;
  for (let first = true; ; first = false) {
    if (!first) views = await readViews(deps, req.jobId);
    // Jobs seen unfinished that no longer are: they ended (their final view is sent) or are gone.
    for (const jobId of [...seen.keys()]) {
      if (views.has(jobId)) continue;
      const job = await deps.jobs.getJob(jobId);
      if (job) views.set(jobId, await statusOf(deps, job));
      else {
        seen.delete(jobId);
        changed = true;
      }
    }
    const events: string[] = [];
    for (const v of views.values()) {
      if (seen.get(v.jobId) === hashOf(JSON.stringify(v))) {
        if (!keepFinal && isJobFinal(v)) seen.delete(v.jobId);
        continue;
      }
      changed = true;
      const e = jobEvent(seen, v, keepFinal);
      if (jobEvents) events.push(e);
    }
    out.push(...events);
    if (events.length > 0 || now() + pollMs > deadline) break;
    await sleep(pollMs);
  }
  if (taskEvents && changed) {
    out.push(sseText({ id: cursorOf(seen), type: 'reset', data: { reason: 'tasks changed: reload them' } }));
  }
  return done();
}

/** The event of a job's new view; `seen` is updated to include it. */
function jobEvent(seen: Seen, v: JobStatusView, keepFinal: boolean): string {
  if (!keepFinal && isJobFinal(v)) seen.delete(v.jobId);
  else seen.set(v.jobId, hashOf(JSON.stringify(v)));
  return sseText({ id: cursorOf(seen), type: 'job', data: v });
}
