// An embedded engine in a temporary SLUICE_HOME, running built-ins in-process (InlineRunner),
// plus test built-ins whose behaviour the pipeline's input decides: fail, crash, sleep.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SluiceService } from '../../shared/api/service.ts';
import { allBuiltins } from '../../shared/builtins/registry.ts';
import type { BuiltinAlgorithm } from '../../shared/ports/builtin-algorithm.ts';
import type { JobState } from '../../shared/ports/job-state.ts';
import { InlineRunner } from '../../shared/runner/inline-runner.ts';
import { EngineHost, type EngineHostOptions } from '../../shared/runtime/embedded/engine-host.ts';
import { LocalEngine, type LocalEngineOptions } from '../../shared/runtime/embedded/local-engine.ts';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });

/** Counts runs per key so tests can see retries. */
export const runCounts = new Map<string, number>();

export const testBuiltins: BuiltinAlgorithm[] = [
  {
    // input [value, failWhen?]: fails when value is in failWhen (an array) or failWhen === true.
    name: 'maybe-fail',
    description: 'fails on chosen values',
    ioBound: false,
    run: async (input) => {
      const [value, failWhen] = input;
      if (failWhen === true || (Array.isArray(failWhen) && failWhen.includes(value))) {
        throw new Error(`failed on ${JSON.stringify(value)}`);
      }
      return value;
    },
  },
  {
    // input [key, crashTimes]: the first crashTimes runs "crash" (the process died), then succeeds.
    name: 'flaky-crash',
    description: 'crashes the first N runs',
    ioBound: false,
    run: async (input) => {
      const [key, times] = input as [string, number];
      const n = (runCounts.get(key) ?? 0) + 1;
      runCounts.set(key, n);
      if (n <= times) throw Object.assign(new Error('worker process died'), { crashed: true });
      return { key, runs: n };
    },
  },
  {
    // input [key, errorTimes]: the first errorTimes runs throw an ordinary error.
    name: 'flaky-error',
    description: 'errors the first N runs',
    ioBound: false,
    run: async (input) => {
      const [key, times] = input as [string, number];
      const n = (runCounts.get(key) ?? 0) + 1;
      runCounts.set(key, n);
      if (n <= times) throw new Error(`error on run ${n}`);
      return { key, runs: n };
    },
  },
  {
    name: 'sleep',
    description: 'sleeps input[0] ms, returns input[1]',
    ioBound: true,
    run: async (input, ctx) => {
      await sleep(Number(input[0]), ctx.signal);
      return input[1] ?? null;
    },
  },
];

/** The API's service over a test engine's ports, as `sluice serve` composes it. */
export function serviceOf(t: TestEngine): SluiceService {
  return new SluiceService({
    jobs: t.engine.jobs,
    tasks: t.engine.tasks,
    registry: t.engine.registry,
    control: t.engine.coordinator,
    builtins: t.engine.engine.ports.builtins,
    notifier: t.engine.notifier,
  });
}

export interface TestEngine {
  engine: LocalEngine;
  home: string;
  run(
    pipeline: unknown,
    opts?: Parameters<LocalEngine['coordinator']['submit']>[1],
  ): Promise<{ job: JobState; results: unknown }>;
  close(): Promise<void>;
}

export async function openTestEngine(
  opts: Partial<LocalEngineOptions> & { slots?: number } = {},
): Promise<TestEngine> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const builtins = allBuiltins();
  for (const b of testBuiltins) builtins.set(b.name, b);
  const engine = await LocalEngine.open({
    home,
    builtins,
    runner: opts.runner ?? new InlineRunner(builtins, opts.slots ?? 4, opts.clock),
    webhookBackoffMs: 20,
    ...opts,
  });
  engine.start();
  return {
    engine,
    home,
    async run(pipeline, submitOpts) {
      const submitted = await engine.coordinator.submit(pipeline, submitOpts);
      const job = await engine.waitForJob(submitted.jobId);
      return { job, results: await engine.jobs.getResults(job.jobId) };
    },
    async close() {
      await engine.close();
      if (!opts.home) rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A serving engine (`sluice serve` minus the process) on 127.0.0.1 with a free port. */
export async function startTestHost(opts: Partial<EngineHostOptions> & { slots?: number } = {}): Promise<{
  host: EngineHost;
  home: string;
  api: string;
  /** The headers every API request needs (the home's token). */
  headers: Record<string, string>;
  /** One API request with a JSON body; the parsed answer, or an error naming a non-2xx status. */
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
  call<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'sluice-host-'));
  const builtins = allBuiltins();
  for (const b of testBuiltins) builtins.set(b.name, b);
  const host = await EngineHost.start({
    home,
    port: 0,
    builtins,
    runner: opts.runner ?? new InlineRunner(builtins, opts.slots ?? 4),
    webhookBackoffMs: 20,
    ...opts,
  });
  const api = `${host.url}/api/v1`;
  const headers: Record<string, string> = host.token ? { authorization: `Bearer ${host.token}` } : {};
  return {
    host,
    home,
    api,
    headers,
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
    async call<T = any>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const parsed = (await res.json()) as T;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed)}`);
      return parsed;
    },
    async close() {
      await host.close();
      if (!opts.home) rmSync(home, { recursive: true, force: true });
    },
  };
}
