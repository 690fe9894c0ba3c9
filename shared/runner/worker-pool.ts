// The embedded backend's TaskRunner: a pool of local processes (slots: pool-slots.ts). Built-ins
// run in builtin hosts, python/nodejs algorithms in hot processes reused task after task, command
// algorithms as one process per task. Every task can be stopped and has its node ttl enforced.
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { closeProcessStarters } from '../io/native/process-starter.ts';
import type { AlgorithmDefinition } from '../pipeline/types.ts';
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import type { CodeApiSession } from '../ports/code-api.ts';
import { taskLogs } from '../ports/task-logs.ts';
import type { TaskOutcome, TaskRunner, TaskSpec } from '../ports/task-runner.ts';
import { type AlgorithmIsolation, algorithmEnv } from './algorithm-isolation.ts';
import { AlgorithmProcess } from './algorithm-process.ts';
import { BuiltinCatalog } from './builtin-catalog.ts';
import { CodeCache } from './code-cache.ts';
import { CommandTask } from './command-task.ts';
import { containerCommand, containerHostProcess } from './container-runtime.ts';
import { cachedEnv, cacheFor, DatasetCache } from './dataset-cache.ts';
import { runInProcess } from './in-process-builtin.ts';
import { crashedOutcome, failedOutcome, stoppedOutcome } from './outcome.ts';
import { PoolImages } from './pool-images.ts';
import { type PoolSettings, poolSettings } from './pool-settings.ts';
import { type Arrival, PoolSlots } from './pool-slots.ts';
import { StopSwitch } from './stop-switch.ts';
import { DEFAULT_TASK_SIZE, type TaskSize, taskSize, tooBigFor } from './task-size.ts';
import type { WorkerPoolOptions, WorkerPoolStats } from './types.ts';

export { CORE_BUILTIN_MODULES } from './pool-settings.ts';

const PYTHON_HOST = fileURLToPath(new URL('./python_host.py', import.meta.url));
const NO_CACHE: { cacheUrl?: string; warning?: string } = {};
const NODE_HOST = fileURLToPath(new URL('./node_host.mjs', import.meta.url));

export class WorkerPool implements TaskRunner {
  private readonly settings: PoolSettings;
  private readonly code: CodeCache;
  private readonly slots: PoolSlots;
  private readonly commands = new Set<CommandTask>();
  private readonly sweeper?: NodeJS.Timeout;
  private readonly datasetCache?: DatasetCache;
  private readonly isolation?: AlgorithmIsolation;
  private readonly catalog: BuiltinCatalog;
  private closing?: Promise<void>;
  private readonly images: PoolImages;

  constructor(options: WorkerPoolOptions) {
    this.settings = poolSettings(options);
    this.images = new PoolImages(this.settings);
    this.catalog = new BuiltinCatalog(this.settings.builtinModules);
    this.isolation = options.isolation;
    const builtinUser = this.isolation?.builtinUser;
    this.slots = new PoolSlots(this.settings, builtinUser);
    this.code = new CodeCache(options.cacheDir, options.fetchUploadedCode);
    if (options.datasetCache)
      this.datasetCache = new DatasetCache({
        env: this.settings.env,
        ...options.datasetCache,
        ...(builtinUser ? { user: builtinUser } : {}),
      });
    const idle = this.settings.idleTimeoutMs;
    if (idle > 0) this.sweeper = setInterval(() => this.slots.sweepIdle(), Math.min(idle, 30_000)).unref();
  }

  get maxWorkers(): number {
    return this.settings.maxWorkers;
  }

  async run(task: TaskSpec, signal: AbortSignal): Promise<TaskOutcome> {
    if (this.closing) return crashedOutcome('the worker pool is closed', taskLogs(), []);
    if (signal.aborted) return stoppedOutcome('stop', task.timeoutMs, taskLogs());
    if (task.algorithm.env !== 'builtin' && task.algorithm.image)
      task = { ...task, algorithm: this.images.own(task.algorithm) };
    const algorithm = task.algorithm;
    const arrival = this.slots.arrive();
    let outcome: TaskOutcome;
    let warning: string | undefined;
    try {
      // Only a cached task waits here: the others reach their slot without a microtask hop.
      const cache = task.cache ? await cacheFor(this.datasetCache) : NO_CACHE;
      warning = cache.warning;
      const { cacheUrl } = cache;
      switch (algorithm.env) {
        case 'builtin':
          outcome = await this.runBuiltin(algorithm.name, task, signal, arrival, cacheUrl);
          break;
        case 'python':
        case 'nodejs':
          outcome = await this.runHot(algorithm, task, signal, arrival, cacheUrl);
          break;
        case 'command':
          outcome = await this.runCommand(algorithm, task, signal, arrival, cacheUrl);
          break;
        default: {
          const { name, env } = algorithm as { name: string; env: string };
          return failedOutcome(`algorithm '${name}' has unknown env '${env}'`, taskLogs());
        }
      }
    } catch (err) {
      // Setup problems (a missing codePath, a bad archive): the algorithm's definition is wrong.
      return failedOutcome(`${algorithm.name}: ${(err as Error).message}`, taskLogs());
    } finally {
      this.slots.arrived(arrival); // it never asked for a lease (a failure before it)
    }
    if (warning) outcome.logs.stderr.unshift(warning);
    return outcome;
  }

  get ioTasksPerSlot(): number {
    return this.settings.ioTasksPerHost;
  }

  freeSlots(algorithmName: string, ioBound: boolean): number {
    if (this.closing) return 0;
    const { maxWorkers, ioTasksPerHost, cpus } = this.settings;
    const inProcess = this.catalog.loaded?.get(algorithmName)?.inProcess === true;
    let idle = 0;
    let idleCpu = 0;
    for (const p of this.slots.procs) {
      if (p.state !== 'idle') continue;
      idle++;
      idleCpu += p.size.cpu;
    }
    let hostRoom = 0;
    for (const h of this.slots.hosts) {
      if (h.load === 0) {
        idle++;
        idleCpu++;
      } else if (ioBound && !inProcess) hostRoom += ioTasksPerHost - h.load;
    }
    // Counted as default-sized processes: the dispatcher claims, run() then waits for room.
    const byCpu = Math.floor(cpus - this.slots.usage().cpu + idleCpu + 1e-9);
    const newSlots = Math.min(maxWorkers - this.slots.usedSlots() + idle, byCpu);
    if (inProcess) hostRoom = this.slots.inProcessRoom();
    const free = ioBound || inProcess ? hostRoom + newSlots * ioTasksPerHost : newSlots;
    return Math.max(0, free - this.slots.waiters.length - this.slots.arriving);
  }

  /** Kills every process (SIGTERM, SIGKILL after the grace) and waits until all have exited. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.slots.closing = true;
      clearInterval(this.sweeper);
      for (const w of this.slots.waiters.splice(0)) w.resolve(undefined);
      for (const p of this.slots.procs) p.retire();
      for (const h of this.slots.hosts) h.retire();
      for (const c of this.commands) c.kill();
      while (this.slots.living.size) await Promise.all(this.slots.living);
      // In-process built-ins' processes went through the process starter: it ends what still
      // runs, and is reaped here rather than by init once this process is gone.
      await closeProcessStarters();
      await this.datasetCache?.close();
    })();
    return this.closing;
  }

  /**
   * Starts processes for `def` until it has `def.minHotWorkers` of them (using free slots only,
   * retiring nothing), so its first tasks skip the interpreter start and the module import.
   */
  async warmUp(given: AlgorithmDefinition): Promise<void> {
    const def = this.images.own(given);
    if (this.closing || (def.env !== 'python' && def.env !== 'nodejs') || def.minHotWorkers <= 0) return;
    if (def.image && !this.images.runtime()) return;
    const { key, size, spawn } = await this.hotSpec(def);
    let live = 0;
    for (const p of this.slots.procs) if (p.key === key) live++;
    for (; live < def.minHotWorkers && this.slots.roomFor(size); live++) spawn();
  }

  stats(): WorkerPoolStats {
    return this.slots.stats();
  }

  /** Pids of the live processes (hot processes and builtin hosts), for diagnostics and tests. */
  pids(): number[] {
    const pids: (number | undefined)[] = [];
    for (const p of this.slots.procs) pids.push(p.pid);
    for (const h of this.slots.hosts) pids.push(h.pid);
    for (const c of this.commands) pids.push(c.pid);
    return pids.filter((pid): pid is number => pid !== undefined);
  }

  private async runHot(
    def: AlgorithmDefinition,
    task: TaskSpec,
    signal: AbortSignal,
    arrival: Arrival,
    cacheUrl?: string,
  ): Promise<TaskOutcome> {
    if (def.image && !this.images.runtime()) return this.images.noRuntime(def);
    const { key, size, spawn } = await this.hotSpec(def, cacheUrl);
    const tooBig = tooBigFor(def.name, size, this.settings);
    if (tooBig) return failedOutcome(tooBig, taskLogs(), [], 'invalid-input');
    const lease = await this.slots.acquire({ kind: 'process', key, size, spawn }, signal, arrival);
    if (lease?.kind !== 'process') return this.notStarted(task, signal);
    return this.supervise(task, signal, (stop) =>
      lease.proc.run(task.input, task.info, stop, task.timeoutMs, this.lending(task)),
    );
  }

  /**
   * The task's code API session, with its slot lent to the pool while the code waits on children
   * (so they can start even when every slot is taken, one worker included).
   */
  private lending(task: TaskSpec): CodeApiSession | undefined {
    const api = task.codeApi;
    if (!api) return undefined;
    const size = task.algorithm.env === 'builtin' ? DEFAULT_TASK_SIZE : taskSize(task.algorithm);
    return {
      call: (index, call) => api.call(index, call),
      lend: (waiting) => {
        this.slots.lend(size, waiting);
        api.lend(waiting);
        if (waiting) this.slots.pump();
      },
    };
  }

  /** Which processes can serve `def` (its key: code, and the dataset cache they read through) and how to start one. */
  private async hotSpec(
    def: AlgorithmDefinition,
    cacheUrl?: string,
  ): Promise<{ key: string; size: TaskSize; spawn: () => AlgorithmProcess }> {
    const codeDir = await this.codeDirOf(def);
    const python = def.env === 'python';
    const entry = def.entryPoint ?? (python ? 'main.py' : 'index.js');
    const where = def.image ? `image:${def.image}` : (cacheUrl ?? '');
    const key = `${def.env}\0${def.name}\0${codeDir}\0${entry}\0${where}`;
    if (def.minHotWorkers > 0) this.slots.minHot.set(key, def.minHotWorkers);
    else this.slots.minHot.delete(key);
    const size = taskSize(def);
    const spawn = () => {
      const { python: py, node, maxLogLines, maxLogBytes, killGraceMs } = this.settings;
      const env = this.algorithmEnv(def.image ? undefined : cacheUrl);
      const hostScript = python ? PYTHON_HOST : NODE_HOST;
      const runtime = def.image ? this.images.runtime() : undefined;
      const { command, args, scratch } = runtime
        ? containerHostProcess({ runtime, node, def, hostScript, codeDir, entry, size, killGraceMs })
        : python
          ? { command: py, args: ['-u', hostScript, codeDir as string, entry] }
          : { command: node, args: [hostScript, codeDir as string, entry] };
      const proc = new AlgorithmProcess({
        key,
        algorithmName: def.name,
        command,
        args,
        cwd: codeDir ?? process.cwd(),
        env: python ? { ...env, PYTHONUNBUFFERED: '1' } : env,
        ...this.user(),
        maxLogLines,
        maxLogBytes,
        killGraceMs,
        size,
      });
      this.slots.addProcess(proc);
      // The bridge removes its FIFO directory itself, unless it was killed first.
      if (scratch) void proc.exited.then(() => rm(scratch, { recursive: true, force: true }));
      return proc;
    };
    return { key, size, spawn };
  }

  private async runBuiltin(
    name: string,
    task: TaskSpec,
    signal: AbortSignal,
    arrival: Arrival,
    cacheUrl?: string,
  ): Promise<TaskOutcome> {
    const meta = (this.catalog.loaded ?? (await this.catalog.load())).get(name);
    if (!meta) return failedOutcome(`unknown built-in algorithm '${name}'`, taskLogs(), [], 'invalid-input');
    if (meta.inProcess) return this.runInProcess(meta, task, signal, arrival);
    const weight = meta.ioBound ? 1 : this.settings.ioTasksPerHost;
    const leased = this.slots.acquire({ kind: 'builtin', weight }, signal, arrival);
    const lease = leased instanceof Promise ? await leased : leased; // no microtask hop when a host has room
    if (lease?.kind !== 'builtin') return this.notStarted(task, signal);
    return this.supervise(task, signal, (stop) =>
      lease.host.run(name, task.input, task.info, weight, stop, task.timeoutMs, cacheUrl),
    );
  }

  private async runInProcess(
    builtin: BuiltinAlgorithm,
    task: TaskSpec,
    signal: AbortSignal,
    arrival: Arrival,
  ): Promise<TaskOutcome> {
    const leased = this.slots.acquire({ kind: 'inProcess' }, signal, arrival);
    const lease = leased instanceof Promise ? await leased : leased;
    if (lease?.kind !== 'inProcess') return this.notStarted(task, signal);
    const { env, maxLogLines } = this.settings;
    return this.supervise(task, signal, (stop) =>
      runInProcess(builtin, task, stop, env, maxLogLines).finally(() => this.slots.releaseInProcess()),
    );
  }

  private async runCommand(
    def: AlgorithmDefinition,
    task: TaskSpec,
    signal: AbortSignal,
    arrival: Arrival,
    cacheUrl?: string,
  ): Promise<TaskOutcome> {
    if (!def.command?.length)
      return failedOutcome(`algorithm '${def.name}' (env command) has no command`, taskLogs());
    if (def.image && !this.images.runtime()) return this.images.noRuntime(def);
    const codeDir = await this.codeDirOf(def);
    const cwd = codeDir ?? process.cwd();
    const size = taskSize(def);
    const runtime = def.image ? this.images.runtime() : undefined;
    const argv = runtime ? containerCommand(runtime, def, codeDir, size) : def.command;
    const tooBig = tooBigFor(def.name, size, this.settings);
    if (tooBig) return failedOutcome(tooBig, taskLogs(), [], 'invalid-input');
    const lease = await this.slots.acquire({ kind: 'command', size }, signal, arrival);
    if (lease?.kind !== 'command') return this.notStarted(task, signal);
    if (this.closing) {
      this.slots.releaseCommand(size); // close() began while this task resumed: start no new process
      return this.notStarted(task, signal);
    }
    return this.supervise(task, signal, (stop) => {
      const { maxLogLines, maxLogBytes, maxCommandOutputBytes, killGraceMs } = this.settings;
      const run = new CommandTask(
        {
          algorithmName: def.name,
          argv,
          cwd,
          env: this.algorithmEnv(def.image ? undefined : cacheUrl),
          ...this.user(),
          maxLogLines,
          maxLogBytes,
          maxOutputBytes: maxCommandOutputBytes,
          killGraceMs,
        },
        task.input,
        task.info,
        stop,
        task.timeoutMs,
      );
      this.commands.add(run);
      this.slots.track(run.done);
      return run.done.finally(() => {
        this.commands.delete(run);
        this.slots.releaseCommand(size);
      });
    });
  }

  /** The algorithm's code directory; none for an image without code of its own (run in its WORKDIR). */
  private async codeDirOf(def: AlgorithmDefinition): Promise<string | undefined> {
    const ownCode = !def.image || def.codePath || def.fileInfo;
    return ownCode ? this.code.codeDir(def) : undefined;
  }

  /** What a user algorithm's process sees: the pool's env (minus credentials when isolated), the cache. */
  private algorithmEnv(cacheUrl?: string): NodeJS.ProcessEnv {
    const env = algorithmEnv(this.settings.env, this.isolation);
    return cacheUrl ? cachedEnv(env, cacheUrl) : env;
  }

  private user(): { user?: { uid: number; gid: number } } {
    return this.isolation?.user ? { user: this.isolation.user } : {};
  }

  /** Runs `start` with a switch thrown by the caller's signal ('stop') or the node ttl ('timeout'). */
  private async supervise(
    task: TaskSpec,
    signal: AbortSignal,
    start: (stop: StopSwitch) => Promise<TaskOutcome>,
  ): Promise<TaskOutcome> {
    const stop = new StopSwitch();
    const onStop = () => stop.stop('stop');
    signal.addEventListener('abort', onStop, { once: true });
    const timer =
      task.timeoutMs !== undefined
        ? this.settings.clock.setTimeout(() => stop.stop('timeout'), task.timeoutMs)
        : undefined;
    try {
      if (signal.aborted) onStop();
      return await start(stop);
    } finally {
      timer?.cancel();
      signal.removeEventListener('abort', onStop);
      this.slots.pump();
    }
  }

  /** The definition as this pool runs it: with `images: 'ignore'`, without its image. */
  private notStarted(task: TaskSpec, signal: AbortSignal): TaskOutcome {
    if (signal.aborted) return stoppedOutcome('stop', task.timeoutMs, taskLogs());
    return crashedOutcome('the worker pool closed before the task could start', taskLogs(), []);
  }
}
