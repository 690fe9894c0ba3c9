// The AWS path run in one process: the real handlers (api, status, expand, dispatch, cron,
// s3-trigger) and a worker, wired by the local glue against whatever endpoints the standard AWS
// variables point to (the emulators, LocalStack, or an account). `sluice serve --backend aws`,
// the AWS conformance suite and the aws-dispatch benchmark all run this.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { isMultipart } from '../../api/multipart.ts';
import type { PolledEventsOptions } from '../../api/polled-events.ts';
import type { BuiltinAlgorithm } from '../../ports/builtin-algorithm.ts';
import { type Clock, every, systemClock } from '../../ports/clock.ts';
import type { TaskRunner } from '../../ports/task-runner.ts';
import { AwsEngine, type AwsEngineOptions, awsConfigFromEnv } from '../aws/aws-engine.ts';
import { promptTick } from '../aws/dispatch-tick.ts';
import { createApiHandler } from '../aws/handlers/api.ts';
import { createCronHandler } from '../aws/handlers/cron.ts';
import { createDispatchHandler } from '../aws/handlers/dispatch.ts';
import { createExpandHandler } from '../aws/handlers/expand.ts';
import { createS3TriggerHandler } from '../aws/handlers/s3-trigger.ts';
import { createStatusHandler } from '../aws/handlers/status.ts';
import { type RunningWorker, startWorker } from '../aws/worker.ts';
import { CronTimers } from '../cron-timers.ts';
import type { DashboardFiles } from '../dashboard-assets.ts';
import { checkRequest, type HttpGuardOptions } from '../http-guard.ts';
import { S3TriggerPoller, SqsPoller } from './glue.ts';
import { startWorkerProcess, type WorkerProcess } from './worker-process.ts';

export interface LocalAwsStackOptions {
  env?: NodeJS.ProcessEnv;
  builtins?: ReadonlyMap<string, BuiltinAlgorithm>;
  /** Runs the worker's tasks (default: the local WorkerPool with `slots` processes). */
  runner?: TaskRunner;
  slots?: number;
  /**
   * Concurrent status-function invocations (default 2: a worker's outcomes arrive in batches, and
   * each waiting long poll costs the SQS emulator a scan every 10 ms).
   */
  statusConcurrency?: number;
  /** Period of the prompt part of the dispatch tick: ttl, aging (default 1 s). */
  dispatchEveryMs?: number;
  /** Period of the whole dispatch tick: also the recovery sweep and the queue counts (default 5 s). */
  sweepEveryMs?: number;
  /** Trigger-bucket listing period (0 = off). */
  s3PollMs?: number;
  /** Serve the api function on node:http (API Gateway's job); `guard` checks who asks as `sluice serve` does. */
  http?: {
    port: number;
    host: string;
    guard?: Omit<HttpGuardOptions, 'apiPrefix'>;
    /** Serve the dashboard at `/`, as the deployed api function does. */
    dashboard?: DashboardFiles;
  };
  /** The api function's bounded event stream (window, poll period). */
  events?: PolledEventsOptions;
  leaseMs?: number;
  heartbeatMs?: number;
  agingMs?: number;
  webhookBackoffMs?: number;
  /** Timings of `sluice debug` sessions (tests: a quick idle expiry). */
  debug?: AwsEngineOptions['debug'];
  /** Start no worker (tests that drive workers themselves). */
  noWorker?: boolean;
  /**
   * Run the worker as its own process, the worker container's entry point with this stack's
   * environment (what a deployment does: the functions and the worker do not share a CPU).
   * `sluice serve --backend aws` does; tests keep it in-process to reach its engine.
   */
  workerProcess?: boolean;
  /**
   * The worker bundle directory (scripts/bundle-worker.mjs) the worker process runs; default:
   * dist/worker when this module runs from the build, else container-tasks/worker.ts via tsx.
   */
  workerBundle?: string;
  /** The clock of every engine, the dispatch tick and the cron timers (default: the system's). */
  clock?: Clock;
  onError?: (err: unknown) => void;
}

export interface LocalAwsStack {
  /** The functions' engine (what a Lambda container holds). */
  engine: AwsEngine;
  worker?: RunningWorker;
  workerEngine?: AwsEngine;
  url?: string;
  /** The address actually bound (http://0.0.0.0:3000 for a wildcard bind). */
  boundUrl?: string;
  handlers: {
    api: ReturnType<typeof createApiHandler>;
    status: ReturnType<typeof createStatusHandler>;
    expand: ReturnType<typeof createExpandHandler>;
    dispatch: ReturnType<typeof createDispatchHandler>;
    cron: ReturnType<typeof createCronHandler>;
    s3Trigger: ReturnType<typeof createS3TriggerHandler>;
  };
  statusPoller: SqsPoller;
  s3Poller?: S3TriggerPoller;
  /** Starts a worker with its own engine (a container task); abort `signal` to drain it. */
  /** `drainMs`: how long a SIGTERM (the signal) waits for running tasks (default 25 s). */
  startWorker(
    runner: TaskRunner,
    slots: number,
    signal: AbortSignal,
    drainMs?: number,
    idleExitMs?: number,
  ): { engine: AwsEngine; worker: RunningWorker };
  close(): Promise<void>;
}

export async function startLocalAwsStack(opts: LocalAwsStackOptions = {}): Promise<LocalAwsStack> {
  const env = opts.env ?? process.env;
  const onError =
    opts.onError ?? ((e: unknown) => process.emitWarning(`sluice aws: ${(e as Error)?.message ?? e}`));
  const config = awsConfigFromEnv(env);
  if (opts.leaseMs !== undefined) config.leaseMs = opts.leaseMs;
  if (opts.agingMs !== undefined) config.agingMs = opts.agingMs;
  const clock = opts.clock ?? systemClock;
  let cron: CronTimers | undefined;
  const cronControl = {
    refresh: () => cron?.refresh() ?? Promise.resolve(),
    list: () => cron?.list() ?? Promise.resolve([]),
  };
  /** What every engine of this stack shares (one Lambda container each, one per worker). */
  const common: Omit<AwsEngineOptions, 'runTasks'> = {
    config,
    env,
    clock,
    ...(opts.builtins ? { builtins: opts.builtins } : {}),
    ...(opts.webhookBackoffMs !== undefined ? { webhookBackoffMs: opts.webhookBackoffMs } : {}),
    ...(opts.debug ? { debug: opts.debug } : {}),
  };
  const engine = new AwsEngine({ ...common, cron: cronControl });
  const get = () => engine;
  // The api function's own engine (as in its own Lambda container): it defers expansions to the
  // expand function through the event queue, like the deployed one.
  const apiEngine = new AwsEngine({
    ...common,
    deferExpansion: true,
    cron: cronControl,
    ...(opts.events ? { events: opts.events } : {}),
  });
  const handlers = {
    api: createApiHandler(() => apiEngine, opts.http?.dashboard ? { dashboard: opts.http.dashboard } : {}),
    status: createStatusHandler(get),
    expand: createExpandHandler(get),
    dispatch: createDispatchHandler(get),
    cron: createCronHandler(get),
    s3Trigger: createS3TriggerHandler(get),
  };
  cron = new CronTimers(
    engine.registry,
    clock,
    (name) => handlers.cron({ sluiceCron: { pipelineName: name } }),
    onError,
  );
  await cron.refresh();

  const statusPoller = new SqsPoller(engine.sqs, config.statusQueueUrl, handlers.status, {
    concurrency: opts.statusConcurrency ?? 2,
    onError,
  }).start();
  const eventPoller = config.eventQueueUrl
    ? new SqsPoller(engine.sqs, config.eventQueueUrl, handlers.expand, { onError }).start()
    : undefined;
  const s3Poller =
    config.triggerBucket && (opts.s3PollMs ?? 1000) > 0
      ? new S3TriggerPoller(engine.s3, config.triggerBucket, handlers.s3Trigger, onError).start(
          opts.s3PollMs ?? 1000,
        )
      : undefined;
  // The whole tick every sweepEveryMs, its prompt part (ttl, aging) in between (see promptTick).
  const tickMs = opts.dispatchEveryMs ?? 1000;
  let sweptAt = clock.now();
  const tick = every(clock, tickMs, () => {
    const now = clock.now();
    const full = now - sweptAt >= Math.max(tickMs, opts.sweepEveryMs ?? 5000);
    if (full) sweptAt = now;
    void (full ? handlers.dispatch() : promptTick(engine)).catch(onError);
  });

  const workers: { engine: AwsEngine; worker: RunningWorker; controller?: AbortController }[] = [];
  const spawnWorker = (
    runner: TaskRunner,
    slots: number,
    signal: AbortSignal,
    drainMs?: number,
    idleExitMs?: number,
  ) => {
    const worker = startWorker(
      { ...common, queue: { ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}) } },
      {
        runner,
        slots,
        pollMs: 50,
        ...(drainMs !== undefined ? { drainMs } : {}),
        ...(idleExitMs !== undefined ? { idleExitMs } : {}),
      },
      signal,
    );
    const w = { engine: worker.engine, worker };
    workers.push(w);
    return w;
  };
  let main: { engine: AwsEngine; worker: RunningWorker } | undefined;
  let mainController: AbortController | undefined;
  let ownRunner: TaskRunner | undefined;
  let workerChild: WorkerProcess | undefined;
  if (!opts.noWorker && opts.workerProcess) {
    workerChild = startWorkerProcess(env, opts.slots ?? 4, onError, opts.workerBundle);
  } else if (!opts.noWorker) {
    const slots = opts.slots ?? 4;
    let runner = opts.runner;
    if (!runner) {
      const { WorkerPool } = await import('../../runner/worker-pool.ts');
      const { withDatasetCache } = await import('../dataset-cache.ts');
      const cacheDir = join(env.SLUICE_SHARED_VOLUME ?? tmpdir(), 'sluice-cache');
      const { uploadedCodeReader } = await import('../aws/uploaded-code.ts');
      runner = new WorkerPool({
        maxWorkers: slots,
        cacheDir,
        images: 'ignore', // as the Fargate worker: no Docker in it (docs/aws.md#algorithms-with-an-image)
        fetchUploadedCode: uploadedCodeReader(env),
        ...withDatasetCache(env),
      });
      ownRunner = runner;
    }
    mainController = new AbortController();
    main = spawnWorker(runner, slots, mainController.signal);
  }

  let server: Server | undefined;
  let url: string | undefined;
  let boundUrl: string | undefined;
  if (opts.http) {
    const guard = opts.http.guard;
    server = createServer((req, res) => {
      const refused = guard ? checkRequest(req, { ...guard, apiPrefix: '/api/v1' }) : undefined;
      if (refused) {
        res.writeHead(refused.status, { 'content-type': 'application/json', connection: 'close' });
        res.end(
          JSON.stringify({ error: { code: refused.status, message: refused.message, type: refused.type } }),
        );
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const u = new URL(req.url ?? '/', 'http://localhost');
          const binary = isMultipart(req.headers['content-type']);
          const query: Record<string, string> = {};
          for (const [k, v] of u.searchParams) query[k] = v;
          const event = {
            httpMethod: req.method ?? 'GET',
            path: u.pathname,
            resource: '/{proxy+}',
            headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
            multiValueHeaders: {},
            queryStringParameters: Object.keys(query).length ? query : null,
            multiValueQueryStringParameters: null,
            pathParameters: { proxy: u.pathname.slice(1) },
            stageVariables: null,
            // As API Gateway with binaryMediaTypes ['multipart/form-data'] (infra/stacks/api-stack.ts).
            body: chunks.length ? Buffer.concat(chunks).toString(binary ? 'base64' : 'utf8') : null,
            isBase64Encoded: binary,
            requestContext: { requestId: randomUUID() } as APIGatewayProxyEvent['requestContext'],
          } as APIGatewayProxyEvent;
          const r = await handlers.api(event);
          res.writeHead(r.statusCode, r.headers as Record<string, string>);
          res.end(r.body);
        })().catch((err) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'INTERNAL', message: (err as Error).message } }));
        });
      });
    });
    await new Promise<void>((r) => server?.listen(opts.http?.port, opts.http?.host, () => r()));
    const a = server.address() as AddressInfo;
    url = `http://${a.address === '0.0.0.0' ? '127.0.0.1' : a.address}:${a.port}`;
    boundUrl = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  return {
    engine,
    ...(main ? { worker: main.worker, workerEngine: main.engine } : {}),
    ...(url ? { url } : {}),
    ...(boundUrl ? { boundUrl } : {}),
    handlers,
    statusPoller,
    ...(s3Poller ? { s3Poller } : {}),
    startWorker: spawnWorker,
    async close() {
      tick.cancel();
      s3Poller?.stop();
      cron?.stop();
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((r) => server?.close(() => r()));
      }
      mainController?.abort();
      for (const w of workers) {
        w.worker.dispatcher.pause();
        await w.worker.dispatcher.close();
        await w.engine.queue.settles.drained();
        w.engine.queue.abandon();
      }
      await workerChild?.stop();
      await statusPoller.stop();
      await eventPoller?.stop();
      await engine.notifier.drain();
      await apiEngine.notifier.drain();
      await ownRunner?.close();
    },
  };
}
