// The worker pool's slots: `maxWorkers` in total, each holding a hot python/nodejs process
// (reused task after task), a running command, or a builtin host (which runs several io-bound
// builtins at once). A lease is taken at once or waited for; when every slot is held by idle
// processes of other algorithms, the least recently used one is retired to make room. Besides the
// slot count, processes take CPUs and memory (task-size.ts) from the pool's budgets, so
// algorithms that declare `cpu`/`mem` never oversubscribe the machine.
import type { PosixUser } from './algorithm-isolation.ts';
import type { AlgorithmProcess } from './algorithm-process.ts';
import { BuiltinHost } from './builtin-host.ts';
import type { PoolSettings } from './pool-settings.ts';
import { DEFAULT_TASK_SIZE, type TaskSize } from './task-size.ts';
import type { WorkerPoolStats } from './types.ts';

export type Want =
  | { kind: 'process'; key: string; size: TaskSize; spawn: () => AlgorithmProcess }
  | { kind: 'builtin'; weight: number }
  | { kind: 'inProcess' }
  | { kind: 'command'; size: TaskSize };

export type Lease =
  | { kind: 'process'; proc: AlgorithmProcess }
  | { kind: 'builtin'; host: BuiltinHost }
  | { kind: 'inProcess' }
  | { kind: 'command' };

interface Waiter {
  want: Want;
  resolve(lease: Lease | undefined): void;
}

/** Sums of fractional CPUs (0.1 + 0.2) are compared with this slack. */
const EPSILON = 1e-9;

/** One task's arrival in the pool (see PoolSlots.arriving). */
export interface Arrival {
  counted: boolean;
}

export class PoolSlots {
  readonly procs = new Set<AlgorithmProcess>();
  readonly hosts = new Set<BuiltinHost>();
  /** Every child not yet known to have exited, so close() can wait for all of them. */
  readonly living = new Set<Promise<unknown>>();
  readonly waiters: Waiter[] = [];
  /**
   * Tasks inside run() that hold no lease and wait for none yet (their code, cache or image being
   * resolved): counted as taking room, so the dispatcher does not claim tasks for it meanwhile.
   */
  arriving = 0;
  /** Command leases (a command's process exists only while its task runs), and what they take. */
  commandSlots = 0;
  private commandCpu = 0;
  private commandMemMiB = 0;
  /** Tasks of in-process built-ins running; `ioTasksPerHost` of them share a slot. */
  inProcessTasks = 0;
  /** minHotWorkers by process key, for the algorithms that asked for warm processes. */
  readonly minHot = new Map<string, number>();
  closing = false;
  private pumping = false;

  constructor(
    private readonly settings: PoolSettings,
    /** Built-in hosts run as this user (algorithm-isolation.ts). */
    private readonly builtinUser?: PosixUser,
  ) {}

  /** Slots of processes whose task waits on children it started (code API): lent, counted free. */
  lent = 0;
  /** Their CPUs, lent too (a waiting process computes nothing; its memory stays taken). */
  private lentCpu = 0;

  usedSlots(): number {
    const inProcess = Math.ceil(this.inProcessTasks / this.settings.ioTasksPerHost);
    return this.procs.size + this.hosts.size + this.commandSlots + inProcess - this.lent;
  }

  /** In-process tasks that fit in the slots they hold already. */
  inProcessRoom(): number {
    const per = this.settings.ioTasksPerHost;
    return (per - (this.inProcessTasks % per)) % per;
  }

  /** An in-process task ended: its share of a slot is free. */
  releaseInProcess(): void {
    this.inProcessTasks--;
    this.pump();
  }

  /**
   * CPUs and MiB the live processes, hosts, in-process slots and commands take (lent CPUs not
   * counted).
   */
  usage(): TaskSize {
    const inProcessSlots = Math.ceil(this.inProcessTasks / this.settings.ioTasksPerHost);
    let cpu = (this.hosts.size + inProcessSlots) * DEFAULT_TASK_SIZE.cpu + this.commandCpu - this.lentCpu;
    let memMiB = this.commandMemMiB;
    for (const p of this.procs) {
      cpu += p.size.cpu;
      memMiB += p.size.memMiB;
    }
    return { cpu, memMiB };
  }

  /** A waiting task lends its slot and CPUs (waiting = true), or takes them back; the caller pumps. */
  lend(size: TaskSize, waiting: boolean): void {
    this.lent += waiting ? 1 : -1;
    this.lentCpu += waiting ? size.cpu : -size.cpu;
  }

  /** A command's process ended: its slot, CPUs and memory free. */
  releaseCommand(size: TaskSize): void {
    this.commandSlots--;
    this.commandCpu -= size.cpu;
    this.commandMemMiB -= size.memMiB;
  }

  /** Whether a process of `size` fits beside the current ones (a slot, CPUs and memory). */
  roomFor(size: TaskSize): boolean {
    const { maxWorkers, cpus, memoryMiB } = this.settings;
    if (this.usedSlots() >= maxWorkers) return false;
    const used = this.usage();
    return used.cpu + size.cpu <= cpus + EPSILON && used.memMiB + size.memMiB <= memoryMiB + EPSILON;
  }

  /** A task entered run(): counted until it asks for its lease (acquire) or leaves without one. */
  arrive(): Arrival {
    this.arriving++;
    return { counted: true };
  }

  /** The arrival ends (idempotent). */
  arrived(arrival: Arrival): void {
    if (!arrival.counted) return;
    arrival.counted = false;
    this.arriving--;
  }

  /** A lease now (no promise on the fast path), or a promise of one when a slot frees. */
  acquire(want: Want, signal: AbortSignal, arrival: Arrival): Lease | undefined | Promise<Lease | undefined> {
    this.arrived(arrival); // from here it holds a lease or is a waiter
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
    } else if (want.kind === 'inProcess' && this.inProcessRoom() > 0) {
      this.inProcessTasks++;
      return { kind: 'inProcess' };
    }
    if (!this.makeRoom(want.kind === 'builtin' || want.kind === 'inProcess' ? DEFAULT_TASK_SIZE : want.size))
      return undefined;
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
      case 'inProcess':
        this.inProcessTasks++;
        return { kind: 'inProcess' };
      case 'command':
        this.commandSlots++;
        this.commandCpu += want.size.cpu;
        this.commandMemMiB += want.size.memMiB;
        return { kind: 'command' };
    }
  }

  /**
   * True when a process of `size` fits now, or after retiring idle processes and hosts. Nothing is
   * retired unless retiring every idle one would make room: warm processes are not thrown away for
   * a task that would wait anyway.
   */
  private makeRoom(size: TaskSize): boolean {
    if (this.roomFor(size)) return true;
    let slots = 0;
    let cpu = 0;
    let memMiB = 0;
    for (const p of this.procs) {
      if (p.state !== 'idle') continue;
      slots++;
      cpu += p.size.cpu;
      memMiB += p.size.memMiB;
    }
    for (const h of this.hosts) {
      if (h.load !== 0) continue;
      slots++;
      cpu += DEFAULT_TASK_SIZE.cpu;
    }
    const { maxWorkers, cpus, memoryMiB } = this.settings;
    const used = this.usage();
    if (
      slots === 0 ||
      this.usedSlots() - slots >= maxWorkers ||
      used.cpu - cpu + size.cpu > cpus + EPSILON ||
      used.memMiB - memMiB + size.memMiB > memoryMiB + EPSILON
    )
      return false;
    while (!this.roomFor(size)) if (!this.retireIdle()) return false;
    return true;
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
  sweepIdle(): void {
    const cutoff = Date.now() - this.settings.idleTimeoutMs;
    for (const p of [...this.procs]) {
      if (p.state === 'idle' && p.lastUsed < cutoff && !this.keptWarm(p)) p.retire();
    }
    for (const h of [...this.hosts]) if (h.load === 0 && h.lastUsed < cutoff) h.retire();
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

  /** Registers a new hot process: its slot frees when it is gone. */
  addProcess(proc: AlgorithmProcess): void {
    this.procs.add(proc);
    proc.onGone = () => {
      this.procs.delete(proc);
      this.pump();
    };
    this.track(proc.exited);
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
      ...(this.builtinUser ? { user: this.builtinUser } : {}),
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

  track(exited: Promise<unknown>): void {
    this.living.add(exited);
    exited.finally(() => this.living.delete(exited));
  }

  /** Hands freed capacity to waiting tasks, in arrival order where they fit. */
  pump(): void {
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
