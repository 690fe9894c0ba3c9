// The rig's background processes (the HTTP server, the delay proxy, s3rver, the FUSE volume):
// started as children, each stopped by its own pid at teardown or when the benchmark is
// interrupted, so a run never leaves a server or a mount behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RIG_CODE_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(RIG_CODE_DIR, '../..');

export interface Daemon {
  name: string;
  pid: number;
  /** The port it printed as `{"port": N}` (servers), or 0. */
  port: number;
  stop(): Promise<void>;
}

const running = new Set<Daemon>();
const cleanups = new Set<() => unknown>();

/** Stops every daemon still running (teardown, and on SIGINT/SIGTERM). */
export async function stopAllDaemons(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop()));
}

/** Runs `cleanup` (unmount, remove the rig directory) if the run is interrupted; returns a remover. */
export function onInterrupt(cleanup: () => unknown): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, tearing the rig down`);
    void (async () => {
      await stopAllDaemons();
      for (const c of cleanups) await Promise.resolve(c()).catch(() => undefined);
    })().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  /** Its stdout and stderr go here (read it when something fails). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Wait for a `{"port": N}` line on stdout (servers) instead of just the spawn. */
  printsPort?: boolean;
  timeoutMs?: number;
}

/** A TypeScript file of this rig run by node with tsx, e.g. ['http-server.ts', '--rate', '50m']. */
export function rigScript(file: string, args: string[], nodeFlags: string[] = []): [string, string[]] {
  return [process.execPath, [...nodeFlags, '--import', 'tsx', join(RIG_CODE_DIR, file), ...args]];
}

export function startDaemon(o: StartOptions): Promise<Daemon> {
  const child = spawn(o.command, o.args, {
    env: o.env ?? process.env,
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(o.logFile, { flags: 'a' });
  child.stderr!.pipe(log);
  const daemon: Daemon = { name: o.name, pid: child.pid ?? 0, port: 0, stop: () => stop(child, daemon) };
  running.add(daemon);
  return new Promise((resolvePromise, reject) => {
    const fail = (why: string) => {
      void daemon.stop();
      reject(new Error(`${o.name} ${why} (log: ${o.logFile})`));
    };
    const timer = setTimeout(() => fail('did not start in time'), o.timeoutMs ?? 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      fail(`could not start: ${e.message}`);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(`exited early (${signal ?? `exit ${code}`})`);
    });
    if (!o.printsPort) {
      child.once('spawn', () => {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stdout!.pipe(log);
        resolvePromise(daemon);
      });
      return;
    }
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const m = /\{"port":\s*(\d+)\}/.exec(buffered);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout!.off('data', onData);
      child.stdout!.pipe(log);
      daemon.port = Number(m[1]);
      resolvePromise(daemon);
    };
    child.stdout!.on('data', onData);
  });
}

function stop(child: ChildProcess, daemon: Daemon): Promise<void> {
  running.delete(daemon);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}
