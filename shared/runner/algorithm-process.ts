// A hot process for one python or nodejs algorithm: it imports the user's code once and serves
// tasks one after another. Its stdout/stderr are the task's logs, delimited by the end-of-task
// markers the host writes; requests and responses travel on fds 3 and 4.
import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { CodeApiSession } from '../ports/code-api.ts';
import { taskLogs } from '../ports/task-logs.ts';
import type { TaskInfo, TaskOutcome } from '../ports/task-runner.ts';
import { CodeApiRelay, isHostApiMessage } from './code-api-relay.ts';
import { ERROR_STDERR_TAIL_LINES, MARKER_WAIT_MS, MAX_LOG_LINE_LENGTH } from './constants.ts';
import { LineSplitter, LogTail, tailsToLogs } from './log-tail.ts';
import { type ChildExit, HOST_STDIO, hostPipes, ManagedChild } from './managed-child.ts';
import {
  crashedOutcome,
  describeExit,
  exceptionOutcome,
  failedOutcome,
  parseResponse,
  stoppedOutcome,
} from './outcome.ts';
import type { StopSwitch } from './stop-switch.ts';
import { DEFAULT_TASK_SIZE, type TaskSize } from './task-size.ts';
import type { HostResponse, StopReason } from './types.ts';

export interface AlgorithmProcessOptions {
  /** Which tasks this process can serve (algorithm name + code). */
  key: string;
  algorithmName: string;
  /** e.g. `python3` and `[-u, python_host.py, codeDir, entryPoint]`; the marker is appended. */
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Run as this user (see algorithm-isolation.ts). */
  user?: { uid: number; gid: number };
  maxLogLines: number;
  maxLogBytes: number;
  killGraceMs: number;
  /** CPUs and memory the process counts for in the pool. Default: DEFAULT_TASK_SIZE. */
  size?: TaskSize;
}

interface ActiveTask {
  id: number;
  stdout: LogTail;
  stderr: LogTail;
  response?: HostResponse;
  markers: number;
  stopReason?: StopReason;
  timeoutMs?: number;
  markerTimer?: NodeJS.Timeout;
  /** The task's code API calls (code-api-relay.ts). */
  relay: CodeApiRelay;
  resolve(outcome: TaskOutcome): void;
}

export class AlgorithmProcess {
  readonly key: string;
  readonly algorithmName: string;
  readonly size: TaskSize;
  /** `claimed`: leased by the pool to a task that is about to call run(). */
  state: 'idle' | 'claimed' | 'busy' | 'dead' = 'idle';
  lastUsed = Date.now();
  /** Resolves when the process is gone (after it was told to exit, or died). */
  readonly exited: Promise<ChildExit>;
  /** Called once when the process died or was retired; the pool forgets it. */
  onGone?: (p: AlgorithmProcess) => void;
  private readonly child: ManagedChild;
  private readonly requests: Writable;
  private readonly recentStderr = new LogTail(ERROR_STDERR_TAIL_LINES, 64 * 1024);
  private active?: ActiveTask;
  private nextId = 1;
  /** Set when the process broke the protocol; the headline of its task's failure. */
  private broken?: string;

  constructor(private readonly options: AlgorithmProcessOptions) {
    this.key = options.key;
    this.algorithmName = options.algorithmName;
    this.size = options.size ?? DEFAULT_TASK_SIZE;
    const marker = `\u001esluice-task-end:${randomBytes(8).toString('hex')}`;
    this.child = new ManagedChild(options.command, [...options.args, marker], {
      cwd: options.cwd,
      env: options.env,
      stdio: [...HOST_STDIO],
      ...options.user,
    });
    const { stdout, stderr, requests, responses } = hostPipes(this.child.child);
    this.requests = requests;
    const out = new LineSplitter(
      (line) => this.active?.stdout.push(line),
      marker,
      () => this.onMarker(),
      MAX_LOG_LINE_LENGTH,
    );
    const err = new LineSplitter(
      (line) => {
        this.recentStderr.push(line);
        this.active?.stderr.push(line);
      },
      marker,
      () => this.onMarker(),
      MAX_LOG_LINE_LENGTH,
    );
    const res = new LineSplitter((line) => this.onResponseLine(line));
    stdout.setEncoding('utf8').on('data', (c: string) => out.feed(c));
    stderr.setEncoding('utf8').on('data', (c: string) => err.feed(c));
    responses.setEncoding('utf8').on('data', (c: string) => res.feed(c));
    this.exited = this.child.exited.then((exit) => {
      out.flush();
      err.flush();
      this.onExit(exit);
      return exit;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Runs one task. A thrown `stop` kills the process (the pool replaces it). */
  run(
    input: unknown[],
    info: TaskInfo,
    stop: StopSwitch,
    timeoutMs?: number,
    codeApi?: CodeApiSession,
  ): Promise<TaskOutcome> {
    if (this.state === 'dead') {
      const headline = `the process running ${this.algorithmName} (pid ${this.pid}) exited before the task reached it`;
      return Promise.resolve(
        crashedOutcome(headline, taskLogs(), this.recentStderr.tail(ERROR_STDERR_TAIL_LINES)),
      );
    }
    if (this.state === 'busy') throw new Error(`process ${this.pid} is already running a task`);
    this.state = 'busy';
    const { maxLogLines, maxLogBytes } = this.options;
    return new Promise((resolve) => {
      const task: ActiveTask = {
        id: this.nextId++,
        stdout: new LogTail(maxLogLines, maxLogBytes),
        stderr: new LogTail(maxLogLines, maxLogBytes),
        markers: 0,
        timeoutMs,
        relay: new CodeApiRelay(codeApi, (line) => {
          if (this.state !== 'dead') this.requests.write(line);
        }),
        resolve,
      };
      this.active = task;
      stop.onStop((reason) => {
        task.stopReason = reason;
        this.child.kill(this.options.killGraceMs);
      });
      this.requests.write(`${JSON.stringify({ t: 'run', id: task.id, input, info })}\n`);
    });
  }

  /** Ends an idle process (to free its slot, or at close). */
  retire(): void {
    if (this.state === 'dead') return;
    this.markGone();
    this.requests.end();
    this.child.kill(this.options.killGraceMs);
  }

  private onResponseLine(line: string): void {
    // Code API messages start with their type (code-api-relay.ts); results are not parsed twice.
    if (line.startsWith('{"t":')) {
      const message = parseJson(line);
      if (isHostApiMessage(message)) {
        if (this.active?.id === message.task) this.active.relay.handle(message);
        return;
      }
    }
    const response = parseResponse(line);
    if (response) this.onResponse(response);
    else {
      // Something other than the host wrote on fd 4 (user code that opened it?): the channel is
      // no longer trustworthy, so the process goes and its task fails as crashed.
      this.broken ??= `the ${this.algorithmName} process wrote garbage on its response channel: ${line.slice(0, 200)}`;
      this.child.kill(this.options.killGraceMs);
    }
  }

  private onResponse(response: HostResponse): void {
    const task = this.active;
    if (!task || response.id !== task.id) return;
    task.response = response;
    if (task.markers >= 2) this.finish(task);
    else task.markerTimer = setTimeout(() => this.finish(task), MARKER_WAIT_MS);
  }

  private onMarker(): void {
    const task = this.active;
    if (!task) return;
    task.markers++;
    if (task.markers >= 2 && task.response) this.finish(task);
  }

  private finish(task: ActiveTask): void {
    if (this.active !== task) return;
    clearTimeout(task.markerTimer);
    task.relay.end();
    this.active = undefined;
    const response = task.response!;
    const logs = tailsToLogs(task.stdout, task.stderr);
    if (task.stopReason) {
      task.resolve(stoppedOutcome(task.stopReason, task.timeoutMs, logs));
      return; // the process is being killed; its exit forgets it
    }
    if (!response.ok && response.fatal) this.retire();
    else if (this.state !== 'dead') {
      this.state = 'idle';
      this.lastUsed = Date.now();
    }
    task.resolve(
      response.ok
        ? { status: 'succeeded', result: response.result, logs }
        : exceptionOutcome(response.error, logs, task.stderr.tail(ERROR_STDERR_TAIL_LINES)),
    );
  }

  private onExit(exit: ChildExit): void {
    const task = this.active;
    this.active = undefined;
    this.markGone();
    if (!task) return;
    clearTimeout(task.markerTimer);
    task.relay.end();
    const logs = tailsToLogs(task.stdout, task.stderr);
    if (task.stopReason) task.resolve(stoppedOutcome(task.stopReason, task.timeoutMs, logs));
    else if (task.response) {
      this.active = task;
      this.finish(task);
    } else if (exit.spawnError) {
      const headline = `could not start the ${this.algorithmName} process (${this.options.command}): ${exit.spawnError.message}`;
      task.resolve(failedOutcome(headline, logs));
    } else {
      const died = `the process running ${this.algorithmName} (pid ${this.pid}) ${describeExit(exit.code, exit.signal)} during the task`;
      task.resolve(crashedOutcome(this.broken ?? died, logs, task.stderr.tail(ERROR_STDERR_TAIL_LINES)));
    }
  }

  private markGone(): void {
    if (this.state === 'dead') return;
    this.state = 'dead';
    this.onGone?.(this);
  }
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
