// The pool's side of a builtin host process (builtin_host.mjs): many built-in tasks in flight at
// once, their requests and results batched into one pipe write per burst each way.

import { extname } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { taskLogs } from '../ports/task-logs.ts';
import type { TaskInfo, TaskOutcome } from '../ports/task-runner.ts';
import { ERROR_STDERR_TAIL_LINES, MAX_LOG_LINE_LENGTH } from './constants.ts';
import { failureOf } from './failure.ts';
import { LineSplitter, LogTail } from './log-tail.ts';
import { type ChildExit, HOST_STDIO, hostPipes, ManagedChild } from './managed-child.ts';
import {
  crashedOutcome,
  describeExit,
  failedOutcome,
  formatError,
  parseResponse,
  stoppedOutcome,
} from './outcome.ts';
import type { StopSwitch } from './stop-switch.ts';
import type { BuiltinModuleRef, HostResponse, StopReason } from './types.ts';

const HOST_SCRIPT = fileURLToPath(new URL('./builtin_host.mjs', import.meta.url));

/**
 * What the host hands its tasks as ctx.objectStores: the AWS adapter's stores, from the host's
 * environment. Composed here, where the host process is assembled, so shared/io never imports an
 * adapter. `.ts` beside the sources, `.js` beside the build (as CORE_BUILTIN_MODULES).
 */
const OBJECT_STORES_MODULE: BuiltinModuleRef = {
  url: new URL(`../adapters/aws/s3-object-stores${extname(fileURLToPath(import.meta.url))}`, import.meta.url)
    .href,
  exportName: 'createAwsObjectStores',
};

export interface BuiltinHostOptions {
  node: string;
  modules: BuiltinModuleRef[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  maxLogLines: number;
  killGraceMs: number;
  /** Run as this user, HOME=/tmp (the worker is root; see algorithm-isolation.ts). */
  user?: { uid: number; gid: number };
}

interface HostTask {
  name: string;
  weight: number;
  stopReason?: StopReason;
  timeoutMs?: number;
  resolve(outcome: TaskOutcome): void;
}

export class BuiltinHost {
  /** Sum of the weights of the tasks in flight (an io-bound task weighs 1, a CPU-bound one a whole host). */
  load = 0;
  lastUsed = Date.now();
  state: 'live' | 'dead' = 'live';
  readonly exited: Promise<ChildExit>;
  onGone?: (h: BuiltinHost) => void;
  /** Called whenever a task finished (its weight is free again). */
  onTaskDone?: () => void;
  private readonly child: ManagedChild;
  private readonly requests: Writable;
  private readonly tasks = new Map<number, HostTask>();
  private readonly recentOutput = new LogTail(ERROR_STDERR_TAIL_LINES, 64 * 1024);
  private pending: string[] = [];
  /** Set when the host broke the protocol; the headline of its tasks' failures. */
  private broken?: string;
  private nextId = 1;

  constructor(private readonly options: BuiltinHostOptions) {
    this.child = new ManagedChild(options.node, [HOST_SCRIPT], {
      cwd: options.cwd,
      env: {
        ...options.env,
        SLUICE_BUILTIN_MODULES: JSON.stringify(options.modules),
        SLUICE_OBJECT_STORES_MODULE: JSON.stringify(OBJECT_STORES_MODULE),
        SLUICE_MAX_LOG_LINES: String(options.maxLogLines),
        ...(options.user ? { HOME: '/tmp' } : {}),
      },
      stdio: [...HOST_STDIO],
      ...options.user,
    });
    const { stdout, stderr, requests, responses } = hostPipes(this.child.child);
    this.requests = requests;
    // Output outside ctx.log() cannot be told apart between concurrent tasks: kept for crash reports.
    const keep = (line: string) => this.recentOutput.push(line);
    const out = new LineSplitter(keep, undefined, undefined, MAX_LOG_LINE_LENGTH);
    const err = new LineSplitter(keep, undefined, undefined, MAX_LOG_LINE_LENGTH);
    stdout.setEncoding('utf8').on('data', (c: string) => out.feed(c));
    stderr.setEncoding('utf8').on('data', (c: string) => err.feed(c));
    const res = new LineSplitter((line) => {
      const response = parseResponse(line);
      if (response) this.onResponse(response);
      else {
        this.broken ??= `the builtin host wrote garbage on its response channel: ${line.slice(0, 200)}`;
        this.retire();
      }
    });
    responses.setEncoding('utf8').on('data', (c: string) => res.feed(c));
    this.exited = this.child.exited.then((exit) => {
      this.onExit(exit);
      return exit;
    });
  }

  get tasksInFlight(): number {
    return this.tasks.size;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  run(
    name: string,
    input: unknown[],
    info: TaskInfo,
    weight: number,
    stop: StopSwitch,
    timeoutMs?: number,
    cacheUrl?: string,
  ): Promise<TaskOutcome> {
    const id = this.nextId++;
    // The pool added `weight` to `load` when it leased this host; a response takes it off.
    if (this.state === 'dead') {
      const headline = `the builtin host (pid ${this.pid}) exited before the task reached it`;
      return Promise.resolve(
        crashedOutcome(headline, taskLogs(), this.recentOutput.tail(ERROR_STDERR_TAIL_LINES)),
      );
    }
    return new Promise((resolve) => {
      const task: HostTask = { name, weight, timeoutMs, resolve };
      this.tasks.set(id, task);
      stop.onStop((reason) => this.cancel(id, task, reason));
      this.send(
        `${JSON.stringify({ t: 'run', id, name, input, info, ...(cacheUrl ? { cacheUrl } : {}) })}\n`,
      );
    });
  }

  /** Ends the host (to free its slot, or at close); tasks still in flight fail as crashed. */
  retire(): void {
    if (this.state === 'dead') return;
    this.markGone();
    this.requests.end();
    this.child.kill(this.options.killGraceMs);
  }

  private cancel(id: number, task: HostTask, reason: StopReason): void {
    task.stopReason = reason;
    this.send(`${JSON.stringify({ t: 'cancel', id })}\n`);
    // A builtin that ignores its AbortSignal is not allowed to hold the stop up: the whole host
    // goes (its other tasks fail as crashed and are retried by their policy).
    setTimeout(() => {
      if (this.tasks.has(id)) this.retire();
    }, this.options.killGraceMs).unref();
  }

  private send(line: string): void {
    if (this.pending.length === 0) process.nextTick(() => this.flush());
    this.pending.push(line);
  }

  private flush(): void {
    const text = this.pending.join('');
    this.pending = [];
    this.requests.write(text);
  }

  private onResponse(response: HostResponse): void {
    const task = this.tasks.get(response.id);
    if (!task) return;
    this.tasks.delete(response.id);
    this.load -= task.weight;
    this.lastUsed = Date.now();
    const logs = taskLogs(response.logs ?? []);
    if (task.stopReason) task.resolve(stoppedOutcome(task.stopReason, task.timeoutMs, logs));
    else if (response.ok) task.resolve({ status: 'succeeded', result: response.result, logs });
    else {
      const { type, message, trace } = response.error;
      task.resolve({
        status: 'failed',
        error: formatError(`${task.name}: ${type}: ${message}`, trace),
        failure: failureOf(response.error),
        crashed: false,
        logs,
      });
    }
    this.onTaskDone?.();
  }

  private onExit(exit: ChildExit): void {
    this.markGone();
    const tail = this.recentOutput.tail(ERROR_STDERR_TAIL_LINES);
    for (const task of this.tasks.values()) {
      if (task.stopReason) task.resolve(stoppedOutcome(task.stopReason, task.timeoutMs, taskLogs()));
      else if (exit.spawnError) {
        task.resolve(
          failedOutcome(`could not start the builtin host: ${exit.spawnError.message}`, taskLogs()),
        );
      } else if (this.broken) {
        task.resolve(crashedOutcome(this.broken, taskLogs(), tail));
      } else {
        const headline = `the builtin host running ${task.name} (pid ${this.pid}) ${describeExit(exit.code, exit.signal)} during the task`;
        task.resolve(crashedOutcome(headline, taskLogs(), tail));
      }
    }
    this.tasks.clear();
    this.load = 0;
  }

  private markGone(): void {
    if (this.state === 'dead') return;
    this.state = 'dead';
    this.onGone?.(this);
  }
}
