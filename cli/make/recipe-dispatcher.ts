// Hands make's recipes to the engine as tasks of one dynamic job (created with the first recipe, so
// `make -n` or an up-to-date tree makes no job), follows each recipe's spool files while it runs,
// and answers the recipe shell with the output and the exit status once its task is finished.
import { open, readdir, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { SluiceClient } from '../connection.ts';
import type { RecipeReply, RecipeRequest } from './recipe-server.ts';
import { TaskWaiter } from './task-waiter.ts';

/** Exit statuses of a recipe that did not end by itself (documented in docs/make.md). */
export const EXIT_CRASHED = 121;
export const EXIT_STOPPED = 122;
export const EXIT_DISPATCH_FAILED = 123;

export const RECIPE_NODE = 'recipes';
/**
 * The output of a recipe running this long (ms) is passed on every FOLLOW_MS, not only at its end;
 * a recipe found with nothing new (still queued, or quiet) is looked at half as often each time,
 * down to every FOLLOW_MAX_MS: with make -j 64 most recipes wait in the queue, and three file
 * operations for each of them every 200 ms showed in profiles.
 */
const FOLLOW_AFTER_MS = 300;
const FOLLOW_MS = 200;
const FOLLOW_MAX_MS = 2000;

interface TaskState {
  taskId: string;
  status: string;
  result?: unknown;
  error?: string;
  failure?: { type: string; message: string; code?: string; details?: unknown };
}

interface Pending {
  req: RecipeRequest;
  reply: RecipeReply;
  stdout: string;
  stderr: string;
  offsets: [number, number];
  since: number;
  /** When its spool files are looked at next while it runs, and the gap after that. */
  nextFollow: number;
  followGap: number;
  taskId?: string;
  /** Bytes in the spool files once the task ended, as its worker reported them. */
  sizes?: [number, number];
  /** Reads of its spool files, one after the other (the timer and the finish may overlap). */
  reading: Promise<void>;
}

export interface RecipeDispatcherOptions {
  /** The engine; recipes that come while it still starts wait for it. */
  client: SluiceClient | Promise<SluiceClient>;
  /** The environment make started with: recipes carry only what differs from it. */
  baseEnv: Record<string, string | undefined>;
  /** A directory both this process and the workers see. */
  spoolDir: string;
  pipelineName: string;
  /** Crashed recipes run again up to this many times. */
  retry: number;
  priority?: number;
  /** Where a path of this machine is on the workers (GXP's directory translation): [local, remote]. */
  pathMap?: [string, string];
  /**
   * Recipes arriving within this many ms of the first go in one add request (default 0: those of
   * one event-loop turn). Make starts recipes one shell at a time as others end, so a few ms gather
   * them where each request is a round trip to the API (`--endpoint`).
   */
  batchMs?: number;
}

export class RecipeDispatcher {
  private job?: Promise<string>;
  private readonly pending = new Set<Pending>();
  private readonly byTask = new Map<string, Pending>();
  private waiter?: TaskWaiter<TaskState>;
  private batch: Pending[] = [];
  private seq = 0;
  private adds = 0;
  private stopping?: Promise<void>;
  /** The spool directory with a trailing separator (a path.join per recipe showed in profiles). */
  private readonly spool: string;
  private readonly follow: NodeJS.Timeout;

  constructor(private readonly o: RecipeDispatcherOptions) {
    this.spool = join(o.spoolDir, '/');
    this.follow = setInterval(() => void this.passOutput(), FOLLOW_MS);
    this.follow.unref();
  }

  get jobId(): Promise<string> | undefined {
    return this.job;
  }

  recipe(req: RecipeRequest, reply: RecipeReply): void {
    const n = ++this.seq;
    const p: Pending = {
      req,
      reply,
      stdout: `${this.spool}${n}.out`,
      stderr: `${this.spool}${n}.err`,
      offsets: [0, 0],
      since: Date.now(),
      nextFollow: Date.now() + FOLLOW_AFTER_MS,
      followGap: FOLLOW_MS,
      reading: Promise.resolve(),
    };
    this.pending.add(p);
    this.batch.push(p);
    // Recipes that arrive together go in one request; a recipe alone in flight (a chain of targets,
    // each waiting for the one before) goes at once: nothing is coming to gather.
    if (this.batch.length === 1) {
      const ms = this.pending.size > 1 ? (this.o.batchMs ?? 0) : 0;
      if (ms > 0) setTimeout(() => void this.flush(), ms);
      else setImmediate(() => void this.flush());
    }
  }

  /** Recipes received so far. */
  get recipes(): number {
    return this.seq;
  }

  /** Requests sent so far, by kind (SLUICE_DEBUG=1 prints them at the end). */
  get requests(): { add: number; wait: number } {
    return { add: this.adds, wait: this.waiter?.requests ?? 0 };
  }

  /** The engine once it has started. */
  private client?: SluiceClient;

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (this.client) return this.client.call<T>(method, path, body);
    return Promise.resolve(this.o.client).then((c) => {
      this.client = c;
      return c.call<T>(method, path, body);
    });
  }

  private waiterOf(jobId: string): TaskWaiter<TaskState> {
    this.waiter ??= new TaskWaiter<TaskState>({
      wait: async (taskIds) =>
        (
          await this.call<{ tasks: TaskState[] }>('POST', `/exec/dynamic/${encodeURIComponent(jobId)}/wait`, {
            taskIds,
            timeoutMs: 20_000,
          })
        ).tasks,
      finished: async (t) => {
        const p = this.byTask.get(t.taskId);
        this.byTask.delete(t.taskId);
        if (p) await this.finish(p, t);
      },
      failed: (taskIds, err) => {
        for (const id of taskIds) {
          const p = this.byTask.get(id);
          this.byTask.delete(id);
          if (p) this.dispatchFailed(p, err);
        }
      },
    });
    return this.waiter;
  }

  private dispatchFailed(p: Pending, err: Error): void {
    if (!this.pending.has(p)) return;
    p.reply.stderr(Buffer.from(`sluice make: could not run the recipe: ${err.message}\n`));
    this.end(p, EXIT_DISPATCH_FAILED);
  }

  private startJob(): Promise<string> {
    this.job ??= this.call<{ jobId: string }>('POST', '/exec/dynamic', {
      name: this.o.pipelineName,
      ...(this.o.priority !== undefined ? { priority: this.o.priority } : {}),
      nodes: [
        {
          nodeName: RECIPE_NODE,
          algorithmName: 'make-recipe',
          input: [],
          retry: this.o.retry > 0 ? { policy: 'OnCrash', limit: this.o.retry } : { policy: 'Never' },
        },
      ],
    }).then((r) => r.jobId);
    return this.job;
  }

  private onWorkers(path: string): string {
    const m = this.o.pathMap;
    if (!m) return path;
    if (path === m[0]) return m[1];
    return path.startsWith(`${m[0]}/`) ? `${m[1]}${path.slice(m[0].length)}` : path;
  }

  /**
   * The base environment's variables that recipes carry (not sluice make's own), as NAME=VALUE
   * strings: a recipe's string found here is unchanged, with no parsing.
   */
  private baseStrings?: Set<string>;

  /**
   * What a recipe's environment says: its target and shell (sluice make's own variables), the
   * variables that differ from the base environment, and those of the base it lacks. Most of a
   * recipe's environment is the base's, compared whole as strings (an object per recipe, then a
   * comparison per variable, was ~20 µs a recipe with 35 variables, twice that under npm).
   */
  private envOf(environ: readonly string[]): {
    target: string;
    shell: string;
    env: Record<string, string>;
    unset: string[];
  } {
    if (!this.baseStrings) {
      this.baseStrings = new Set();
      const base = this.o.baseEnv;
      for (const k in base) {
        if (!k.startsWith('SLUICE_MAKE_') && base[k] !== undefined) this.baseStrings.add(`${k}=${base[k]}`);
      }
    }
    const baseStrings = this.baseStrings;
    let target = '';
    let shell = '';
    let same = 0;
    const env: Record<string, string> = {};
    for (const kv of environ) {
      if (baseStrings.has(kv)) {
        same++;
        continue;
      }
      const eq = kv.indexOf('=');
      if (eq <= 0) continue;
      const k = kv.slice(0, eq);
      if (!k.startsWith('SLUICE_MAKE_')) env[k] = kv.slice(eq + 1);
      else if (k === 'SLUICE_MAKE_TARGET') target = kv.slice(eq + 1);
      else if (k === 'SLUICE_MAKE_REAL_SHELL') shell = kv.slice(eq + 1);
    }
    const unset: string[] = [];
    if (same < baseStrings.size) {
      // Some base variable changed or is gone: those gone are unset for the recipe.
      const names = new Set(environ.map((kv) => kv.slice(0, kv.indexOf('='))));
      for (const kv of baseStrings) {
        const k = kv.slice(0, kv.indexOf('='));
        if (!names.has(k)) unset.push(k);
      }
    }
    return { target, shell, env, unset };
  }

  private async flush(): Promise<void> {
    const batch = this.batch.splice(0, 1000);
    if (this.batch.length) setImmediate(() => void this.flush());
    try {
      const jobId = await this.startJob();
      const tasks = batch.map((p) => {
        const { target, shell, env, unset } = this.envOf(p.req.environ);
        return {
          key: p.stdout,
          input: [
            {
              target,
              argv: [shell || '/bin/sh', ...p.req.args],
              cwd: this.onWorkers(p.req.cwd),
              env,
              unset,
              stdout: this.onWorkers(p.stdout),
              stderr: this.onWorkers(p.stderr),
            },
          ],
        };
      });
      this.adds++;
      const added = await this.call<{ tasks: { taskId: string }[] }>(
        'POST',
        `/exec/dynamic/${encodeURIComponent(jobId)}/tasks`,
        { nodeName: RECIPE_NODE, tasks },
      );
      const ids: string[] = [];
      batch.forEach((p, i) => {
        p.taskId = added.tasks[i]?.taskId;
        if (!p.taskId) this.dispatchFailed(p, new Error('the API answered no task for it'));
        else if (this.pending.has(p)) {
          this.byTask.set(p.taskId, p);
          ids.push(p.taskId);
        }
      });
      this.waiterOf(jobId).add(ids);
    } catch (err) {
      for (const p of batch) this.dispatchFailed(p, err as Error);
    }
  }

  private async finish(p: Pending, t: TaskState): Promise<void> {
    // The worker says how much each spool file holds (and removed the empty ones): most recipes of a
    // build write nothing, and then no file is opened here.
    const sizes = (t.status === 'succeeded' ? t.result : t.failure?.details) as
      | { stdoutBytes?: unknown; stderrBytes?: unknown }
      | undefined;
    const known = typeof sizes?.stdoutBytes === 'number' && typeof sizes.stderrBytes === 'number';
    p.sizes = known ? [sizes?.stdoutBytes as number, sizes?.stderrBytes as number] : undefined;
    if (!known || p.offsets[0] < (p.sizes?.[0] ?? 0) || p.offsets[1] < (p.sizes?.[1] ?? 0))
      await this.passOutputOf(p);
    let code = 0;
    if (t.status === 'stopped') {
      code = EXIT_STOPPED;
      p.reply.stderr(Buffer.from(`sluice make: recipe stopped: ${t.error ?? 'its job was stopped'}\n`));
    } else if (t.status === 'failed') {
      const exit = (t.failure?.details as { exitCode?: unknown } | undefined)?.exitCode;
      if (t.failure?.code === 'RECIPE_FAILED' && typeof exit === 'number') code = exit;
      else if (t.failure?.type === 'stopped') code = EXIT_STOPPED;
      else {
        code = t.failure?.type === 'crashed' ? EXIT_CRASHED : EXIT_DISPATCH_FAILED;
        const why = t.failure?.message ?? t.error ?? 'failed';
        p.reply.stderr(Buffer.from(`sluice make: recipe ${t.failure?.type ?? 'failed'}: ${why}\n`));
      }
    }
    this.end(p, code);
  }

  private end(p: Pending, code: number): void {
    this.pending.delete(p);
    p.reply.exit(code);
    // Files the worker reported empty are gone already.
    if (p.sizes?.[0] !== 0) void unlink(p.stdout).catch(() => {});
    if (p.sizes?.[1] !== 0) void unlink(p.stderr).catch(() => {});
  }

  /** Passes on what running recipes wrote since last time (those running for a while). */
  private async passOutput(): Promise<void> {
    const now = Date.now();
    const due = [...this.pending].filter((p) => p.taskId && now >= p.nextFollow);
    if (due.length === 0) return;
    // One listing tells which recipes started (their worker made the files): queued ones cost nothing.
    const present = new Set(await readdir(this.o.spoolDir).catch(() => [] as string[]));
    for (const p of due) {
      if (!this.pending.has(p)) continue;
      const before = p.offsets[0] + p.offsets[1];
      if (present.has(basename(p.stdout)) || present.has(basename(p.stderr))) await this.passOutputOf(p);
      const got = p.offsets[0] + p.offsets[1] > before;
      p.followGap = got ? FOLLOW_MS : Math.min(2 * p.followGap, FOLLOW_MAX_MS);
      p.nextFollow = Date.now() + p.followGap;
    }
  }

  private passOutputOf(p: Pending): Promise<void> {
    p.reading = p.reading.then(() => this.readSpool(p));
    return p.reading;
  }

  private async readSpool(p: Pending): Promise<void> {
    for (const i of [0, 1] as const) {
      if (p.sizes && p.offsets[i] >= p.sizes[i]) continue; // nothing more in it
      const file = i === 0 ? p.stdout : p.stderr;
      let fh: Awaited<ReturnType<typeof open>>;
      try {
        fh = await open(file, 'r');
      } catch {
        continue; // not started yet
      }
      try {
        for (;;) {
          const buf = Buffer.alloc(64 * 1024);
          const { bytesRead } = await fh.read(buf, 0, buf.length, p.offsets[i]);
          if (bytesRead === 0) break;
          p.offsets[i] += bytesRead;
          (i === 0 ? p.reply.stdout : p.reply.stderr)(buf.subarray(0, bytesRead));
        }
      } finally {
        await fh.close();
      }
    }
  }

  /** Stops every running recipe (once): make is being interrupted. */
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.job) return;
      const jobId = await this.job.catch(() => undefined);
      if (!jobId) return;
      await this.call('POST', '/exec/stop', { jobId, reason }).catch(() => {});
    })();
    return this.stopping;
  }

  /** After make exited: closes the job (failed with make's status when it failed). */
  async close(makeStatus: number): Promise<{ jobId: string; status: string } | undefined> {
    clearInterval(this.follow);
    if (!this.job) return undefined;
    const jobId = await this.job;
    if (this.stopping) return { jobId, status: 'stopped' };
    const body = makeStatus === 0 ? {} : { failed: `make exited with status ${makeStatus}` };
    const r = await this.call<{ status: string }>(
      'POST',
      `/exec/dynamic/${encodeURIComponent(jobId)}/close`,
      body,
    ).catch((err: Error) => ({ status: `not closed (${err.message})` }));
    return { jobId, status: r.status };
  }
}
