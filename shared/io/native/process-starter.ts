// Starts commands through the compiled process starter (process-starter-source.ts) instead of
// Node's spawn, which forks the whole Node.js process for every child. One starter serves a
// process; where it cannot be built (not Linux, no C compiler) callers use spawn.
import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { compiledHelper } from './compiled-helper.ts';
import { PROCESS_STARTER_C } from './process-starter-source.ts';

export interface StartRequest {
  /** argv[0] without a slash is looked up in env.PATH. */
  argv: string[];
  cwd: string;
  /** The environment, or the NAME=VALUE strings of one (mergedEnvList). */
  env: Record<string, string | undefined> | string[];
  /**
   * Files the process's stdout and stderr go to, each created (or truncated) when its first byte
   * arrives: a process that prints nothing makes no file. stdin is /dev/null.
   */
  stdout: string;
  stderr: string;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Bytes in the stdout and stderr files when it exited (the starter reports them; spawn does not). */
  bytes?: [number, number];
}

export interface StartedProcess {
  pid: number;
  exited: Promise<ProcessExit>;
  /** Sends `signal` to the process group the process leads (also after it exited, like kill(-pid)). */
  killGroup(signal: NodeJS.Signals): void;
}

interface Slot {
  started(pid: number): void;
  /** Not started: errno from the starter, or the starter's own end. */
  failed(errno: number | Error): void;
  exited(exit: ProcessExit): void;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

function startError(errno: number, argv0: string): NodeJS.ErrnoException {
  let code = `E${errno}`;
  try {
    code = getSystemErrorName(-errno);
  } catch {
    /* an errno Node does not know */
  }
  return Object.assign(new Error(`${code}: could not start ${argv0}`), { code, errno: -errno });
}

/** One NUL-terminated field per string, after a u32 big-endian length. */
function frame(fields: string[]): Buffer {
  const body = Buffer.from(`${fields.join('\0')}\0`, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** An environment as [NAME, "NAME=VALUE"] pairs (unset variables left out). */
function envPairs(env: Record<string, string | undefined>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const k in env) {
    const v = env[k];
    if (v !== undefined) pairs.push([k, `${k}=${v}`]);
  }
  return pairs;
}

/** Each base environment's pairs, made once (a recipe's start reuses them). */
const basePairs = new WeakMap<object, [string, string][]>();

/**
 * `base` with `set` over it and `unset` taken out, as the NAME=VALUE strings a start request
 * takes. The strings of `base` are made once per base object (which must not change after):
 * every recipe of a build starts with the same environment and a few variables of its own.
 */
export function mergedEnvList(
  base: Record<string, string | undefined>,
  set: Record<string, string | undefined>,
  unset: readonly string[],
): string[] {
  let pairs = basePairs.get(base);
  if (!pairs) {
    pairs = envPairs(base);
    basePairs.set(base, pairs);
  }
  const out: string[] = [];
  for (const [k, kv] of pairs) if (!Object.hasOwn(set, k) && !unset.includes(k)) out.push(kv);
  for (const [k, kv] of envPairs(set)) if (!unset.includes(k)) out.push(kv);
  return out;
}

/** Starters of this process not yet exited (closeProcessStarters ends them). */
const live = new Set<ProcessStarter>();

/** Ends every starter of this process and waits until they have exited (a pool closing). */
export async function closeProcessStarters(): Promise<void> {
  const all = [...live];
  for (const s of all) s.close();
  await Promise.all(all.map((s) => s.exited));
}

export class ProcessStarter {
  /** Resolves once the starter process has exited (and been reaped here). */
  readonly exited: Promise<void>;
  private readonly slots = new Map<number, Slot>();
  private nextId = 1;
  private gone?: Error;
  private pending: Buffer[] = [];

  private constructor(private readonly child: ChildProcess) {
    live.add(this);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    }).then(() => {
      live.delete(this);
    });
    let text = '';
    child.stdout?.setEncoding('latin1').on('data', (chunk: string) => {
      text += chunk;
      let nl = text.indexOf('\n');
      while (nl >= 0) {
        this.onLine(text.slice(0, nl));
        text = text.slice(nl + 1);
        nl = text.indexOf('\n');
      }
    });
    child.stdin?.on('error', () => {});
    child.once('error', (err) => this.onGone(err));
    child.once('exit', (code, signal) =>
      this.onGone(
        new Error(`the process starter ${signal ? `was killed by ${signal}` : `exited with ${code}`}`),
      ),
    );
    this.hold(false);
  }

  /**
   * Keeps this process alive while a started process has not been reported gone, and only then:
   * an idle starter must not keep its parent running, but a parent waiting only on the exit of a
   * process (a stopped recipe) would otherwise end before the starter tells it.
   */
  private hold(on: boolean): void {
    for (const h of [this.child, this.child.stdout, this.child.stdin] as unknown as ({
      ref?: () => void;
      unref?: () => void;
    } | null)[])
      on ? h?.ref?.() : h?.unref?.();
  }

  /** A starter running `bin` (from processStarterHelper). */
  static launch(bin: string): ProcessStarter {
    // Its own process group: a Ctrl-C meant for the terminal's job must not end it before the
    // processes it started are stopped through it (it ends them itself when its input closes).
    return new ProcessStarter(spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'], detached: true }));
  }

  /** Whether it can still start processes (it has not died). */
  get alive(): boolean {
    return this.gone === undefined;
  }

  /** Starts a process; rejects with the errno (code ENOENT, EACCES...) when it could not start. */
  start(req: StartRequest): Promise<StartedProcess> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    const env = Array.isArray(req.env) ? req.env : envPairs(req.env).map(([, kv]) => kv);
    const argv0 = req.argv[0] ?? '';
    return new Promise((resolve, reject) => {
      let exit: (e: ProcessExit) => void = () => {};
      const exited = new Promise<ProcessExit>((r) => {
        exit = r;
      });
      if (this.slots.size === 0) this.hold(true);
      this.slots.set(id, {
        started: (pid) =>
          resolve({
            pid,
            exited,
            killGroup: (signal) => {
              if (!this.gone) this.send(frame(['K', String(pid), String(constants.signals[signal])]));
            },
          }),
        failed: (e) => {
          this.slots.delete(id);
          if (this.slots.size === 0) this.hold(false);
          reject(typeof e === 'number' ? startError(e, argv0) : e);
        },
        exited: (e) => {
          this.slots.delete(id);
          if (this.slots.size === 0) this.hold(false);
          exit(e);
        },
      });
      this.send(
        frame([
          'S',
          String(id),
          req.cwd,
          req.stdout,
          req.stderr,
          String(req.argv.length),
          ...req.argv,
          ...env,
        ]),
      );
    });
  }

  /** Ends the starter: the processes it still runs get SIGTERM, then SIGKILL. */
  close(): void {
    this.hold(true); // whoever closes it may wait for its exit, and only for that
    this.child.stdin?.end();
  }

  private send(buf: Buffer): void {
    // Requests of one turn go in one write.
    if (this.pending.length === 0) process.nextTick(() => this.flush());
    this.pending.push(buf);
  }

  private flush(): void {
    const data = Buffer.concat(this.pending);
    this.pending = [];
    if (!this.gone) this.child.stdin?.write(data);
  }

  private onLine(line: string): void {
    const [kind, idText, a = '0', b = '0', out = '0', err = '0'] = line.split(' ');
    const slot = this.slots.get(Number(idText));
    if (!slot) return;
    if (kind === 'P') slot.started(Number(a));
    else if (kind === 'E') slot.failed(Number(a));
    else if (kind === 'X') {
      const code = Number(a);
      const signal = code < 0 ? (SIGNAL_NAMES.get(Number(b)) ?? 'SIGKILL') : null;
      slot.exited({ code: code < 0 ? null : code, signal, bytes: [Number(out), Number(err)] });
    }
  }

  private onGone(err: Error): void {
    if (this.gone) return;
    this.gone = err;
    // Its processes were told to end when its input closed; their callers see them crashed.
    for (const slot of this.slots.values()) {
      slot.failed(Object.assign(new Error(err.message), { code: 'ESTARTER' }));
      slot.exited({ code: null, signal: 'SIGKILL' });
    }
    this.slots.clear();
  }
}

let built: Promise<string | undefined> | undefined;

/** The starter's path, compiled on first use; undefined where it cannot be had (spawn is used). */
export function processStarterHelper(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (process.platform !== 'linux') return Promise.resolve(undefined);
  built ??= compiledHelper('process-starter', PROCESS_STARTER_C, env).catch(() => undefined);
  return built;
}
