// The embedded backend's TaskRunner: a pool of local processes. `maxWorkers` slots in total; a
// slot holds a hot python/nodejs process (reused task after task), a running command, or a
// builtin host (which runs several io-bound builtins at once). When every slot is taken by idle
// processes of other algorithms, the least recently used one is retired to make room.
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../errors.ts';
import type { AlgorithmDefinition } from '../pipeline/types.ts';
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import type { TaskOutcome, TaskRunner, TaskSpec } from '../ports/task-runner.ts';
import { AlgorithmProcess } from './algorithm-process.ts';
import { BuiltinHost } from './builtin-host.ts';
import { CodeCache } from './code-cache.ts';
import { CommandTask } from './command-task.ts';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_IO_TASKS_PER_HOST,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_MAX_COMMAND_OUTPUT_BYTES,
  DEFAULT_MAX_LOG_BYTES,
  DEFAULT_MAX_LOG_LINES,
} from './constants.ts';
import { crashedOutcome, failedOutcome, stoppedOutcome } from './outcome.ts';
import { StopSwitch } from './stop-switch.ts';
import type { BuiltinModuleRef, WorkerPoolOptions, WorkerPoolStats } from './types.ts';

const PYTHON_HOST = fileURLToPath(new URL('./python_host.py', import.meta.url));
const NODE_HOST = fileURLToPath(new URL('./node_host.mjs', import.meta.url));

/**
 * `.ts` when this module runs from the sources, `.js` when it runs from the build in dist/: the
 * builtin host must import the same kind of code (from dist it then needs no TypeScript loader).
 */
const OWN_EXTENSION = extname(fileURLToPath(import.meta.url));

/** The built-ins every pool offers unless told otherwise. */
export const CORE_BUILTIN_MODULES: readonly BuiltinModuleRef[] = [
  {
    url: new URL(`../builtins/index${OWN_EXTENSION}`, import.meta.url).href,
    exportName: 'coreBuiltins',
  },
];

type Want =
  | { kind: 'process'; key: string; spawn: () => AlgorithmProcess }
  | { kind: 'builtin'; weight: number }
  | { kind: 'command' };
type Lease =
  | { kind: 'process'; proc: AlgorithmProcess }
  | { kind: 'builtin'; host: BuiltinHost }
  | { kind: 'command' };

interface Waiter {
  want: Want;
  resolve(lease: Lease | undefined): void;
}

type Settings = Required<Omit<WorkerPoolOptions, 'cacheDir'>>;

export class WorkerPool implements TaskRunner {
  private readonly settings: Settings;
  private readonly code: CodeCache;
  private readonly procs = new Set<AlgorithmProcess>();
  private readonly hosts = new Set<BuiltinHost>();
  private readonly commands = new Set<CommandTask>();
  /** Every child not yet known to have exited, so close() can wait for all of them. */
  private readonly living = new Set<Promise<unknown>>();
  private readonly waiters: Waiter[] = [];
  /** Command leases (a command's process exists only while its task runs). */
  private commandSlots = 0;
  private pumping = false;
  /** minHotWorkers by process key, for the algorithms that asked for warm processes. */
  private readonly minHot = new Map<string, number>();
  private readonly sweeper?: NodeJS.Timeout;
  private catalog?: Map<string, Pick<BuiltinAlgorithm, 'ioBound'>>;
  private catalogLoading?: Promise<Map<string, Pick<BuiltinAlgorithm, 'ioBound'>>>;
  private closing?: Promise<void>;

  constructor(options: WorkerPoolOptions) {
    const count = (name: keyof WorkerPoolOptions, min: number) => {
      const value = options[name];
      if (value !== undefined && !(Number.isInteger(value) && (value as number) >= min)) {
        throw new ValidationError(
          `worker pool: ${name} must be an integer >= ${min}, got ${String(value)}`,
          name,
        );
      }
    };
    count('maxWorkers', 1);
    count('ioTasksPerHost', 1);
    for (const name of [
      'maxLogLines',
      'maxLogBytes',
      'killGraceMs',
      'maxCommandOutputBytes',
      'idleTimeoutMs',
    ] as const) {
      count(name, 0);
    }
    this.settings = {
      maxWorkers: options.maxWorkers ?? availableParallelism(),
      builtinModules: options.builtinModules ?? [...CORE_BUILTIN_MODULES],
      ioTasksPerHost: options.ioTasksPerHost ?? DEFAULT_IO_TASKS_PER_HOST,
      maxLogLines: options.maxLogLines ?? DEFAULT_MAX_LOG_LINES,
      maxLogBytes: options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES,
      killGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      maxCommandOutputBytes: options.maxCommandOutputBytes ?? DEFAULT_MAX_COMMAND_OUTPUT_BYTES,
      python: options.python ?? 'python3',
      node: options.node ?? process.execPath,
      env: options.env ?? process.env,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    };
    this.code = new CodeCache(options.cacheDir);
    const idle = this.settings.idleTimeoutMs;
    if (idle > 0) this.sweeper = setInterval(() => this.sweepIdle(), Math.min(idle, 30_000)).unref();
  }

  get maxWorkers(): number {
    return this.settings.maxWorkers;
  }

  async run(task: TaskSpec, signal: AbortSignal): Promise<TaskOutcome> {
    if (this.closing) return crashedOutcome('the worker pool is closed', [], []);
    if (signal.aborted) return stoppedOutcome('stop', task.timeoutMs, []);
    const algorithm = task.algorithm;
    try {
      switch (algorithm.env) {
        case 'builtin':
          return await this.runBuiltin(algorithm.name, task, signal);
        case 'python':
        case 'nodejs':
          return await this.runHot(algorithm, task, signal);
        case 'command':
          return await this.runCommand(algorithm, task, signal);
        default: {
          const { name, env } = algorithm as { name: string; env: string };
          return failedOutcome(`algorithm '${name}' has unknown env '${env}'`, []);
        }
      }
    } catch (err) {
      // Setup problems (a missing codePath, a bad archive): the algorithm's definition is wrong.
      return failedOutcome(`${algorithm.name}: ${(err as Error).message}`, []);
    }
  }

  freeSlots(_algorithmName: string, ioBound: boolean): number {
    if (this.closing) return 0;
    const { maxWorkers, ioTasksPerHost } = this.settings;
    let idle = 0;
    for (const p of this.procs) if (p.state === 'idle') idle++;
    let hostRoom = 0;
    for (const h of this.hosts) {
      if (h.load === 0) idle++;
      else if (ioBound) hostRoom += ioTasksPerHost - h.load;
    }
    const newSlots = maxWorkers - this.usedSlots() + idle;
    const free = ioBound ? hostRoom + newSlots * ioTasksPerHost : newSlots;
    return Math.max(0, free - this.waiters.length);
  }

  /** Kills every process (SIGTERM, SIGKILL after the grace) and waits until all have exited. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweeper);
      for (const w of this.waiters.splice(0)) w.resolve(undefined);
      for (const p of this.procs) p.retire();
      for (const h of this.hosts) h.retire();
      for (const c of this.commands) c.kill();
      while (this.living.size) await Promise.all(this.living);
    })();
    return this.closing;
  }

  /**
   * Starts processes for `def` until it has `def.minHotWorkers` of them (using free slots only,
   * retiring nothing), so its first tasks skip the interpreter start and the module import.
   */
  async warmUp(def: AlgorithmDefinition): Promise<void> {
    if (this.closing || (def.env !== 'python' && def.env !== 'nodejs') || def.minHotWorkers <= 0) return;
    const { key, spawn } = await this.hotSpec(def);
    let live = 0;
    for (const p of this.procs) if (p.key === key) live++;
    for (; live < def.minHotWorkers && this.usedSlots() < this.settings.maxWorkers; live++) spawn();
  }

  stats(): WorkerPoolStats {
    let busyProcesses = 0;
    let idleProcesses = 0;
    for (const p of this.procs) {
      if (p.state === 'idle') idleProcesses++;
      else busyProcesses++;
    }
    let builtinTasks = 0;
    for (const h of this.hosts) builtinTasks += h.tasksInFlight;
    return {
      maxWorkers: this.settings.maxWorkers,
      usedSlots: this.usedSlots(),
      busyProcesses,
      idleProcesses,
      builtinHosts: this.hosts.size,
      builtinTasks,
      commands: this.commandSlots,
      queued: this.waiters.length,
    };
  }

  /** Pids of the live processes (hot processes and builtin hosts), for diagnostics and tests. */
  pids(): number[] {
    const pids: (number | undefined)[] = [];
    for (const p of this.procs) pids.push(p.pid);
    for (const h of this.hosts) pids.push(h.pid);
    for (const c of this.commands) pids.push(c.pid);
    return pids.filter((pid): pid is number => pid !== undefined);
  }

  private async runHot(def: AlgorithmDefinition, task: TaskSpec, signal: AbortSignal): Promise<TaskOutcome> {
    const { key, spawn } = await this.hotSpec(def);
    const lease = await this.acquire({ kind: 'process', key, spawn }, signal);
    if (lease?.kind !== 'process') return this.notStarted(task, signal);
    return this.supervise(task, signal, (stop) =>
      lease.proc.run(task.input, task.info, stop, task.timeoutMs),
    );
  }

  /** Which processes can serve `def` (its key) and how to start one. */
  private async hotSpec(def: AlgorithmDefinition): Promise<{ key: string; spawn: () => AlgorithmProcess }> {
    const codeDir = await this.code.resolve(def.codePath);
    const python = def.env === 'python';
    const entry = def.entryPoint ?? (python ? 'main.py' : 'index.js');
    const key = `${def.env}\0${def.name}\0${codeDir}\0${entry}`;
    if (def.minHotWorkers > 0) this.minHot.set(key, def.minHotWorkers);
    else this.minHot.delete(key);
    const spawn = () => {
      const { python: py, node, env, maxLogLines, maxLogBytes, killGraceMs } = this.settings;
      const proc = new AlgorithmProcess({
        key,
        algorithmName: def.name,
        command: python ? py : node,
        args: python ? ['-u', PYTHON_HOST, codeDir, entry] : [NODE_HOST, codeDir, entry],
        cwd: codeDir,
        env: python ? { ...env, PYTHONUNBUFFERED: '1' } : env,
        maxLogLines,
        maxLogBytes,
        killGraceMs,
      });
      this.procs.add(proc);
      proc.onGone = () => {
        this.procs.delete(proc);
        this.pump();
      };
      this.track(proc.exited);
      return proc;
    };
    return { key, spawn };
  }

  private async runBuiltin(name: string, task: TaskSpec, signal: AbortSignal): Promise<TaskOutcome> {
    const meta = (this.catalog ?? (await this.loadCatalog())).get(name);
    if (!meta) return failedOutcome(`unknown built-in algorithm '${name}'`, [], [], 'invalid-input');
    const weight = meta.ioBound ? 1 : this.settings.ioTasksPerHost;
    const leased = this.acquire({ kind: 'builtin', weight }, signal);
    const lease = leased instanceof Promise ? await leased : leased; // no microtask hop when a host has room
    if (lease?.kind !== 'builtin') return this.notStarted(task, signal);
    return this.supervise(task, signal, (stop) =>
      lease.host.run(name, task.input, task.info, weight, stop, task.timeoutMs),
    );
  }

  private async runCommand(
    def: AlgorithmDefinition,
    task: TaskSpec,
    signal: AbortSignal,
  ): Promise<TaskOutcome> {
    if (!def.command?.length)
      return failedOutcome(`algorithm '${def.name}' (env command) has no command`, []);
    const argv = def.command;
    const cwd = await this.code.resolve(def.codePath);
    const lease = await this.acquire({ kind: 'command' }, signal);
    if (lease?.kind !== 'command') return this.notStarted(task, signal);
    if (this.closing) {
      this.commandSlots--; // close() began while this task resumed: start no new process
      return this.notStarted(task, signal);
    }
    return this.supervise(task, signal, (stop) => {
      const { env, maxLogLines, maxLogBytes, maxCommandOutputBytes, killGraceMs } = this.settings;
      const run = new CommandTask(
        {
          algorithmName: def.name,
          argv,
          cwd,
          env,
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
      this.track(run.done);
      return run.done.finally(() => {
        this.commands.delete(run);
        this.commandSlots--;
      });
    });
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
      task.timeoutMs !== undefined ? setTimeout(() => stop.stop('timeout'), task.timeoutMs) : undefined;
    try {
      if (signal.aborted) onStop();
      return await start(stop);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onStop);
      this.pump();
    }
  }

  private notStarted(task: TaskSpec, signal: AbortSignal): TaskOutcome {
    if (signal.aborted) return stoppedOutcome('stop', task.timeoutMs, []);
    return crashedOutcome('the worker pool closed before the task could start', [], []);
  }

  private loadCatalog(): Promise<Map<string, Pick<BuiltinAlgorithm, 'ioBound'>>> {
    this.catalogLoading ??= (async () => {
      const catalog = new Map<string, Pick<BuiltinAlgorithm, 'ioBound'>>();
      for (const { url, exportName } of this.settings.builtinModules) {
        const list = ((await import(url)) as Record<string, unknown>)[exportName];
        if (!Array.isArray(list))
          throw new TypeError(`builtin module ${url} has no array export '${exportName}'`);
        for (const b of list as BuiltinAlgorithm[]) catalog.set(b.name, { ioBound: b.ioBound });
      }
      this.catalog = catalog;
      return catalog;
    })();
    return this.catalogLoading;
  }

  /** A lease now (no promise on the fast path), or a promise of one when a slot frees. */
  private acquire(want: Want, signal: AbortSignal): Lease | undefined | Promise<Lease | undefined> {
    // run() may have awaited (code resolution) while close() began: start nothing new.
    if (this.closing) return undefined;
    const lease = this.tryAcquire(want);
    if (lease) return lease;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        want,
        resolve: (l) => {
          signal.removeEventListener('abort', onAbort);
          resolve(l);
        },
      };
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        waiter.resolve(undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /**
   * A lease is taken at once (process claimed, host load or command slot counted), because the
   * task that gets it resumes only a microtask later, after other tasks may have asked.
   */
  private tryAcquire(want: Want): Lease | undefined {
    if (want.kind === 'process') {
      for (const p of this.procs) {
        if (p.key === want.key && p.state === 'idle') {
          p.state = 'claimed';
          return { kind: 'process', proc: p };
        }
      }
    } else if (want.kind === 'builtin') {
      let best: BuiltinHost | undefined;
      for (const h of this.hosts) {
        if (h.load + want.weight <= this.settings.ioTasksPerHost && (!best || h.load < best.load)) best = h;
      }
      if (best) {
        best.load += want.weight;
        return { kind: 'builtin', host: best };
      }
    }
    if (this.usedSlots() >= this.settings.maxWorkers && !this.retireIdle()) return undefined;
    switch (want.kind) {
      case 'process': {
        const proc = want.spawn();
        proc.state = 'claimed';
        return { kind: 'process', proc };
      }
      case 'builtin': {
        const host = this.spawnHost();
        host.load += want.weight;
        return { kind: 'builtin', host };
      }
      case 'command':
        this.commandSlots++;
        return { kind: 'command' };
    }
  }

  private usedSlots(): number {
    return this.procs.size + this.hosts.size + this.commandSlots;
  }

  /**
   * Retires the least recently used idle process or host; false if every slot is busy. Processes
   * an algorithm's minHotWorkers keeps warm go last: a task that can run beats a warm idle process.
   */
  private retireIdle(): boolean {
    let victim: AlgorithmProcess | BuiltinHost | undefined;
    let victimKept = true;
    for (const p of this.procs) {
      if (p.state !== 'idle') continue;
      const kept = this.keptWarm(p);
      if (!victim || (victimKept && !kept) || (kept === victimKept && p.lastUsed < victim.lastUsed)) {
        victim = p;
        victimKept = kept;
      }
    }
    for (const h of this.hosts) {
      if (h.load !== 0) continue;
      if (!victim || victimKept || h.lastUsed < victim.lastUsed) {
        victim = h;
        victimKept = false;
      }
    }
    victim?.retire();
    return victim !== undefined;
  }

  /** Whether retiring `p` would leave its algorithm with fewer processes than its minHotWorkers. */
  private keptWarm(p: AlgorithmProcess): boolean {
    const min = this.minHot.get(p.key);
    if (!min) return false;
    let live = 0;
    for (const q of this.procs) if (q.key === p.key) live++;
    return live <= min;
  }

  /** Retires processes and hosts idle for longer than idleTimeoutMs (minHotWorkers stay). */
  private sweepIdle(): void {
    const cutoff = Date.now() - this.settings.idleTimeoutMs;
    for (const p of [...this.procs]) {
      if (p.state === 'idle' && p.lastUsed < cutoff && !this.keptWarm(p)) p.retire();
    }
    for (const h of [...this.hosts]) if (h.load === 0 && h.lastUsed < cutoff) h.retire();
  }

  private spawnHost(): BuiltinHost {
    const { node, builtinModules, env, maxLogLines, killGraceMs } = this.settings;
    const host = new BuiltinHost({
      node,
      modules: builtinModules,
      env,
      cwd: process.cwd(),
      maxLogLines,
      killGraceMs,
    });
    this.hosts.add(host);
    host.onGone = () => {
      this.hosts.delete(host);
      this.pump();
    };
    host.onTaskDone = () => this.pump();
    this.track(host.exited);
    return host;
  }

  private track(exited: Promise<unknown>): void {
    this.living.add(exited);
    exited.finally(() => this.living.delete(exited));
  }

  /** Hands freed capacity to waiting tasks, in arrival order where they fit. */
  private pump(): void {
    if (this.pumping || this.waiters.length === 0 || this.closing) return;
    this.pumping = true;
    try {
      for (let i = 0; i < this.waiters.length; ) {
        const waiter = this.waiters[i]!;
        const lease = this.tryAcquire(waiter.want);
        if (!lease) {
          i++;
          continue;
        }
        this.waiters.splice(i, 1);
        waiter.resolve(lease);
      }
    } finally {
      this.pumping = false;
    }
  }
}
