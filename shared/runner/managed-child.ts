// A child process in its own process group, so that killing it also kills whatever it started
// (a shell's children, a Python multiprocessing pool): SIGTERM to the group, SIGKILL after a grace.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { PIPE_DRAIN_MS } from './constants.ts';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  spawnError?: Error;
}

export interface ManagedChildOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdio: StdioOptions;
  /** Run as this user and group (the caller must be root; see algorithm-isolation.ts). */
  uid?: number;
  gid?: number;
}

/** The pipes of a host process: logs on stdout/stderr, requests on fd 3, responses on fd 4. */
export const HOST_STDIO = ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] as const;

export interface HostPipes {
  stdout: Readable;
  stderr: Readable;
  requests: Writable;
  responses: Readable;
}

export function hostPipes(child: ChildProcess): HostPipes {
  const [, stdout, stderr, requests, responses] = child.stdio as [
    null,
    Readable,
    Readable,
    Writable,
    Readable,
  ];
  // EPIPE once the process died: its exit is reported instead.
  requests.on('error', () => {});
  return { stdout, stderr, requests, responses };
}

export class ManagedChild {
  readonly child: ChildProcess;
  /** Resolves once the process exited and its pipes drained (or PIPE_DRAIN_MS passed). */
  readonly exited: Promise<ChildExit>;
  private exit?: ChildExit;
  private killTimer?: NodeJS.Timeout;

  constructor(command: string, args: string[], options: ManagedChildOptions) {
    this.child = spawn(command, args, { ...options, detached: true });
    this.exited = new Promise((resolve) => {
      let closed = false;
      let drainTimer: NodeJS.Timeout | undefined;
      this.child.once('close', () => {
        closed = true;
        clearTimeout(drainTimer);
        resolve(this.exit ?? { code: this.child.exitCode, signal: this.child.signalCode });
      });
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        clearTimeout(this.killTimer);
        // Leftover members of the group would hold the pipes open (and leak): end them now.
        this.signalGroup('SIGKILL');
        // A process that escaped the group (setsid) may hold the pipes forever: do not wait on it.
        if (!closed) drainTimer = setTimeout(() => resolve(this.exit!), PIPE_DRAIN_MS);
      });
      this.child.once('error', (spawnError) => {
        if (this.child.pid !== undefined && this.exit === undefined) return; // a pipe error; 'exit' follows
        this.exit = { code: null, signal: null, spawnError };
        resolve(this.exit);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM the group now, SIGKILL it after `graceMs`. Idempotent. */
  kill(graceMs: number): void {
    if (this.exit || this.killTimer) return;
    this.signalGroup('SIGTERM');
    this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}
