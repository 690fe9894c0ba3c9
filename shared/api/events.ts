// The events operation: a stream of a job's (or every job's) live events that resumes after the
// last id a client saw (the `Last-Event-ID` header, or `lastEventId` in the query). Where the
// engine keeps a live log (embedded) the stream stays open; elsewhere (AWS) each request is a
// bounded stream read from the job records (polled-events.ts).
import { SluiceError } from '../errors.ts';
import type { ApiDeps } from './api-deps.ts';
import { type BoundedEventStream, EventStreamBody, type LiveEvent, sseText } from './live-events.ts';
import { polledEvents } from './polled-events.ts';
import type { ApiRequest } from './route-table.ts';

/** Events are gathered this long before they are written: one write per batch, not per event. */
const FLUSH_MS = 50;

/** Each event's text, made once however many streams write it. */
const texts = new WeakMap<LiveEvent, string>();
function textOf(e: LiveEvent): string {
  let t = texts.get(e);
  if (t === undefined) {
    t = sseText(e);
    texts.set(e, t);
  }
  return t;
}

export function eventStream(deps: ApiDeps, req: ApiRequest): EventStreamBody | Promise<BoundedEventStream> {
  const jobId = req.query.jobId || undefined;
  const types = req.query.types ? new Set(req.query.types.split(',')) : undefined;
  const resumeFrom = req.headers?.['last-event-id'] || req.query.lastEventId || undefined;
  const log = deps.events;
  if (!log) {
    if (deps.polledEvents) {
      return polledEvents(
        deps,
        { ...(jobId ? { jobId } : {}), ...(types ? { types } : {}), ...(resumeFrom ? { resumeFrom } : {}) },
        deps.polledEvents,
      );
    }
    throw new SluiceError(
      'live events are served by `sluice serve` (this backend has no event stream)',
      'EVENTS_UNAVAILABLE',
      501,
    );
  }
  return new EventStreamBody((send) => {
    let pending: string[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      if (pending.length) send(pending.join(''));
      pending = [];
    };
    const push = (e: LiveEvent) => {
      if ((jobId && e.jobId !== jobId) || (types && !types.has(e.type))) return;
      pending.push(textOf(e));
      timer ??= setTimeout(flush, FLUSH_MS);
    };
    // Subscribed before the backlog is read: nothing falls between the two.
    const seen = new Set<string>();
    const buffered: LiveEvent[] = [];
    let live = false;
    const off = log.subscribe((e) => (live ? push(e) : buffered.push(e)));
    const backlog = resumeFrom ? log.since(resumeFrom, jobId) : [];
    if (backlog === undefined) {
      // Too old or from a previous engine: the client reloads its state, then follows from here.
      send(sseText({ id: log.lastId(), type: 'reset', data: { reason: 'events since that id are gone' } }));
    } else {
      send(`retry: 1000\n${sseText({ id: resumeFrom ?? log.lastId(), type: 'hello', data: { jobId } })}`);
      for (const e of backlog) {
        seen.add(e.id);
        push(e);
      }
    }
    for (const e of buffered) if (!seen.has(e.id)) push(e);
    live = true;
    const heartbeat = setInterval(() => send(': keep-alive\n\n'), 15_000);
    heartbeat.unref();
    return () => {
      off();
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
    };
  });
}
