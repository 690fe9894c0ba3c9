// How a CLI command reaches Sluice: the API of `--endpoint URL` (or $SLUICE_ENDPOINT), the engine
// already running for this SLUICE_HOME, or, when none runs, the state directory in-process.
// Every command speaks the same REST routes either way, so there is one code path per operation.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStreamBody } from '../shared/api/live-events.ts';
import { encodeMultipart } from '../shared/api/multipart.ts';
import {
  API_PREFIX,
  type ApiRequest,
  type ApiResponse,
  type ErrorBody,
  handleApi,
} from '../shared/api/router.ts';
import type { SluiceService } from '../shared/api/service.ts';
import { readSse, type SseMessage } from '../shared/api/sse-reader.ts';
import { taskFailure } from '../shared/ports/task-failure.ts';
import { taskLogs } from '../shared/ports/task-logs.ts';
import type { TaskRunner } from '../shared/ports/task-runner.ts';
import { readApiToken } from '../shared/runtime/api-token.ts';
import { EngineHost, runningEngine } from '../shared/runtime/embedded/engine-host.ts';
import { LocalEngine, sluiceHome } from '../shared/runtime/embedded/local-engine.ts';
import { isLoopbackHost } from '../shared/runtime/http-guard.ts';
import { authorizedHeaders } from './api-auth.ts';
import { answerBehindRedirect, type FormFields, formBody } from './client-bodies.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';

export { type ApiAuth, apiAuthFor, authorizedHeaders } from './api-auth.ts';
export type { FormFields } from './client-bodies.ts';

export interface SluiceClient {
  /** Where requests go, for messages. */
  readonly where: string;
  /** False when no engine runs behind this client: submitted or unfinished jobs do not progress. */
  readonly live: boolean;
  call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    query?: Record<string, string | undefined>,
  ): Promise<T>;
  /**
   * Follows `GET /events` with `query` (server-sent events) until `signal` aborts or the stream
   * ends. Served by `sluice serve`'s engine and the AWS API; an API without it throws.
   */
  events?(query: Record<string, string>, signal: AbortSignal): AsyncIterable<SseMessage>;
  /**
   * POSTs a multipart/form-data form (text fields and files): the code upload. An engine reached
   * in-process is handed the parsed form.
   */
  upload?<T = unknown>(path: string, form: FormFields): Promise<T>;
  close(): Promise<void>;
}

function unwrap<T>(r: ApiResponse, where: string): T {
  if (r.status >= 200 && r.status < 300) return r.body as T;
  // HKube's shape: `code` is the HTTP status; Sluice's own code is `type`.
  const err = (r.body as Partial<ErrorBody> | undefined)?.error;
  throw new CliError(
    typeof err?.message === 'string' ? err.message : `request to ${where} failed with HTTP ${r.status}`,
  );
}

/** The pause before following a stream that ended again (the bounded stream's `retry:` hint). */
const RECONNECT_MS = 100;

class HttpClient implements SluiceClient {
  readonly live = true;
  /** discoveredIn: the SLUICE_HOME whose engine.json named this URL (not given by the user). */
  constructor(
    readonly where: string,
    private readonly discoveredIn?: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** The api-token of the home whose engine this is (never sent to a host that is not local). */
    private readonly homeToken?: string,
  ) {}
  private headers(
    method: string,
    url: URL,
    body: string | Uint8Array | undefined,
    contentType?: string,
  ): Promise<Record<string, string>> {
    return authorizedHeaders(this.where, this.env, this.homeToken, method, url, body, contentType);
  }
  async call<T>(method: string, path: string, body?: unknown, query?: Record<string, string | undefined>) {
    const payload = body !== undefined ? JSON.stringify(body) : undefined;
    return this.send<T>(method, path, payload, query);
  }
  async upload<T>(path: string, form: FormFields) {
    const { body, contentType } = encodeMultipart(form.fields, form.files);
    return this.send<T>('POST', path, body, {}, contentType);
  }
  private async send<T>(
    method: string,
    path: string,
    payload: string | Uint8Array | undefined,
    query?: Record<string, string | undefined>,
    contentType?: string,
  ) {
    const url = new URL(`${this.where.replace(/\/$/, '')}${API_PREFIX}${path}`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers = await this.headers(method, url, payload, contentType);
    let res: Response;
    try {
      // Redirects are followed here, not by fetch: see answerBehindRedirect.
      res = await fetch(url, {
        method,
        headers,
        redirect: 'manual',
        ...(payload !== undefined ? { body: payload } : {}),
      });
      res = await answerBehindRedirect(res);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      if (this.discoveredIn) {
        throw new CliError(
          `the engine of ${this.discoveredIn} (${this.where}) is gone (${why}); its unfinished jobs continue with \`sluice resume\``,
        );
      }
      throw new CliError(`cannot reach the Sluice API at ${this.where}: ${why}`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text for the error */
    }
    return unwrap<T>({ status: res.status, body: parsed }, this.where);
  }
  /**
   * Follows the stream; when it ends (a bounded stream: AWS answers each request with the events
   * of up to 20 s, then ends it), reconnects with the last event id, so nothing is lost.
   */
  async *events(query: Record<string, string>, signal: AbortSignal): AsyncIterable<SseMessage> {
    let lastId: string | undefined;
    for (;;) {
      const url = new URL(`${this.where.replace(/\/$/, '')}${API_PREFIX}/events`);
      for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
      if (lastId) url.searchParams.set('lastEventId', lastId);
      const res = await fetch(url, { headers: await this.headers('GET', url, undefined), signal });
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => '');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        unwrap({ status: res.ok ? 502 : res.status, body: parsed }, this.where);
        return;
      }
      for await (const m of readSse(res.body)) {
        if (m.id) lastId = m.id;
        yield m;
      }
      if (signal.aborted || !lastId) return;
      await new Promise((r) => setTimeout(r, RECONNECT_MS));
    }
  }
  async close() {}
}

class InProcessClient implements SluiceClient {
  constructor(
    readonly where: string,
    private readonly service: SluiceService,
    private readonly onClose: () => Promise<void>,
    readonly live: boolean,
  ) {}
  async call<T>(method: string, path: string, body?: unknown, query?: Record<string, string | undefined>) {
    const req: ApiRequest = { method, path, query: query ?? {}, body };
    return unwrap<T>(await handleApi(this.service, req), this.where);
  }
  upload<T>(path: string, form: FormFields) {
    return this.call<T>('POST', path, formBody(form));
  }
  async *events(query: Record<string, string>, signal: AbortSignal): AsyncIterable<SseMessage> {
    const r = await handleApi(this.service, { method: 'GET', path: '/events', query });
    if (!(r.body instanceof EventStreamBody)) {
      unwrap(r, this.where);
      return;
    }
    // The stream's text, parsed as a client over HTTP would.
    const text = new TransformStream<Uint8Array, Uint8Array>();
    const writer = text.writable.getWriter();
    const encoder = new TextEncoder();
    const stop = r.body.open((chunk) => void writer.write(encoder.encode(chunk)).catch(() => {}));
    const end = () => {
      stop();
      void writer.close().catch(() => {});
    };
    signal.addEventListener('abort', end, { once: true });
    try {
      yield* readSse(text.readable);
    } finally {
      end();
    }
  }
  close() {
    return this.onClose();
  }
}

/** A runner for processes that only read or store definitions: it never takes a task. */
const noRunner: TaskRunner = {
  run: async () => {
    const error = 'no runner in this process';
    return {
      status: 'failed',
      error,
      failure: taskFailure('crashed', error),
      crashed: false,
      logs: taskLogs(),
    };
  },
  freeSlots: () => 0,
  close: async () => {},
};

export interface ConnectOptions {
  endpoint?: string;
}

function remote(ctx: CliContext, opts: ConnectOptions): HttpClient | undefined {
  const home = sluiceHome(ctx.env, ctx.cwd);
  const given = opts.endpoint ?? ctx.env.SLUICE_ENDPOINT;
  if (given) {
    // The home's token goes only to this machine: a remote endpoint gets $SLUICE_API_TOKEN or nothing.
    let local = false;
    try {
      local = isLoopbackHost(new URL(given).hostname);
    } catch {
      throw new CliError(`--endpoint must be a URL like http://127.0.0.1:3000 (got "${given}")`);
    }
    return new HttpClient(given, undefined, ctx.env, local ? readApiToken(home) : undefined);
  }
  const url = runningEngine(home)?.url;
  return url ? new HttpClient(url, home, ctx.env, readApiToken(home)) : undefined;
}

/** For commands that read state or change stored definitions: no engine is started. */
export async function connect(ctx: CliContext, opts: ConnectOptions = {}): Promise<SluiceClient> {
  const http = remote(ctx, opts);
  if (http) return http;
  const home = sluiceHome(ctx.env, ctx.cwd);
  if (existsSync(home)) return openHome(home);
  return new HomeOnFirstWrite(home);
}

async function openHome(home: string): Promise<InProcessClient> {
  const engine = await LocalEngine.open({ home, runner: noRunner });
  return new InProcessClient(home, engine.service, () => engine.close(), false);
}

/**
 * A home that does not exist yet is created by the first request that changes state, never by one
 * that only reads (`sluice exec jobs` in some directory must not leave a `.sluice` behind): reads
 * are answered by an empty state in a temporary directory, removed on close.
 */
class HomeOnFirstWrite implements SluiceClient {
  readonly live = false;
  private empty: Promise<{ client: InProcessClient; dir: string }> | undefined;
  private real: Promise<InProcessClient> | undefined;
  constructor(readonly where: string) {}
  private reader(): Promise<SluiceClient> {
    if (this.real) return this.real;
    this.empty ??= (async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-empty-home-'));
      return { client: await openHome(dir), dir };
    })();
    return this.empty.then((e) => e.client);
  }
  call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    query?: Record<string, string | undefined>,
  ): Promise<T> {
    if (method === 'GET' || method === 'HEAD')
      return this.reader().then((c) => c.call<T>(method, path, body, query));
    this.real ??= openHome(this.where);
    return this.real.then((c) => c.call<T>(method, path, body, query));
  }
  upload<T = unknown>(path: string, form: FormFields): Promise<T> {
    this.real ??= openHome(this.where);
    return this.real.then((c) => c.upload<T>(path, form));
  }
  async *events(query: Record<string, string>, signal: AbortSignal): AsyncIterable<SseMessage> {
    const client = await this.reader();
    if (client.events) yield* client.events(query, signal);
  }
  async close(): Promise<void> {
    const empty = this.empty;
    this.empty = undefined;
    if (empty) {
      const { client, dir } = await empty;
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    }
    if (this.real) await (await this.real).close();
  }
}

/**
 * For commands that run jobs: the remote or running engine if there is one, else an engine
 * started in this process for as long as the command runs.
 */
export async function connectEngine(
  ctx: CliContext,
  opts: ConnectOptions & {
    workers?: number;
    /** False: the caller handles SIGINT/SIGTERM/SIGHUP itself and closes the client after. */
    closeOnSignal?: boolean;
  },
): Promise<{ client: SluiceClient; host?: EngineHost }> {
  const http = remote(ctx, opts);
  if (http) return { client: http };
  const host = await EngineHost.start({
    home: sluiceHome(ctx.env, ctx.cwd),
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
  });
  const release = opts.closeOnSignal === false ? () => {} : closeOnSignal(ctx, host);
  return {
    client: new InProcessClient(
      host.engine.home,
      host.service,
      async () => {
        await waitForOtherJobs(ctx, host);
        release();
        await host.close();
      },
      true,
    ),
    host,
  };
}

/**
 * Other commands on this SLUICE_HOME may have submitted jobs to the engine of this process (found
 * through engine.json): it keeps running until they end rather than strand them mid-run.
 */
async function waitForOtherJobs(ctx: CliContext, host: EngineHost): Promise<void> {
  let told = false;
  for (;;) {
    const [next, ...rest] = await host.engine.jobs.unfinishedJobs();
    if (!next) return;
    if (!told) {
      ctx.stderr.write(
        `sluice: ${rest.length + 1} other job(s) run in this engine; waiting for them (Ctrl-C leaves them for \`sluice resume\`)\n`,
      );
      told = true;
    }
    await host.engine.waitForJob(next.jobId);
    if (rest.length === 0) {
      // Their commands still read the results: serve until the API has been quiet for a moment.
      const t0 = Date.now();
      while (Date.now() - host.lastRequestAt < 1500 && Date.now() - t0 < 10_000) {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/**
 * While this process hosts the engine, SIGINT/SIGTERM/SIGHUP close it before exiting: the worker
 * pool's children run in their own process groups (Ctrl-C does not reach them), so only closing
 * the pool ends them. Unfinished jobs stay in the state; `sluice resume` continues them.
 * Returns the function that removes the handlers.
 */
export function closeOnSignal(ctx: CliContext, host: EngineHost): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    release();
    ctx.stderr.write(
      `\nsluice: ${signal}: stopping the workers; unfinished jobs continue with \`sluice resume\`\n`,
    );
    const code = SIGNAL_EXIT[signal] ?? 1;
    host.close().then(
      () => process.exit(code),
      () => process.exit(code),
    );
  };
  const signals = Object.keys(SIGNAL_EXIT) as NodeJS.Signals[];
  for (const s of signals) process.once(s, onSignal);
  const release = () => {
    for (const s of signals) process.off(s, onSignal);
  };
  return release;
}
