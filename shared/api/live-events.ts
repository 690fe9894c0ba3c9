// The live events the API streams (`GET /api/v1/events`): what a job and its tasks did, each with
// an id so a client that reconnects resumes where it stopped. The engine's event log produces them
// (engine/event-log.ts); the API only reads them, so a backend without one answers 501.

export type LiveEventType = 'job' | 'task';

export interface LiveEvent {
  /** `<log start>-<sequence>`: ordered within one log; a restarted engine starts a new log. */
  id: string;
  type: LiveEventType;
  jobId: string;
  data: unknown;
}

export interface LiveEvents {
  /**
   * The events after `lastId` (of one job, or all), or `undefined` when the id is not this log's
   * or its events were already dropped: the client then reloads what it shows.
   */
  since(lastId: string, jobId?: string): LiveEvent[] | undefined;
  /** The id a client that has seen everything until now would resume from. */
  lastId(): string;
  /** Calls `listener` with every new event; returns the unsubscribe function. */
  subscribe(listener: (e: LiveEvent) => void): () => void;
}

/** A response that is a stream of server-sent events: the HTTP shell writes what `open` sends. */
export class EventStreamBody {
  constructor(
    /** Starts the stream; `send` takes ready SSE text; returns the function that ends it. */
    readonly open: (send: (text: string) => void) => () => void,
  ) {}
}

/** One event in the text/event-stream format. */
export function sseText(e: { id: string; type: string; data: unknown }): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

/**
 * A response that is a whole, finite event stream (the polled stream, polled-events.ts): an HTTP
 * shell that cannot hold a response open (API Gateway and Lambda) sends it as one body.
 */
export class BoundedEventStream {
  constructor(readonly text: string) {}
}
