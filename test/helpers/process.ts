// The `sluice` command as a real process (bin/sluice.js through tsx), for end-to-end tests: one-shot
// runs with captured output, and long-running `sluice serve` processes with their API URL.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));

export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function sluiceEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_HOME: home, ...extra };
  delete env.SLUICE_ENDPOINT;
  delete env.SLUICE_DEBUG;
  return env;
}

/** Starts `sluice ARGS` and collects its output as it comes (a command the test stops itself). */
export function startSluice(
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string },
): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  return { child, out: () => out, err: () => err };
}

/** Runs `sluice ARGS` to its end. */
export function sluice(
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const { child, out, err } = startSluice(args, opts);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')} timed out; stderr: ${err()}`));
    }, opts.timeoutMs ?? 25_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (process.env.SLUICE_TEST_TIMING) console.error(`${Date.now() - t0} ms: sluice ${args.join(' ')}`);
      resolve({ code, signal, stdout: out(), stderr: err() });
    });
  });
}

export interface Served {
  child: ChildProcess;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** The API token of its home (undefined with --no-auth). */
  token: string | undefined;
  /** The headers every API request needs. */
  headers: Record<string, string>;
  stderr(): string;
  /** Resolves with the exit status once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `sluice serve --port 0 ARGS` in its own process group and waits for the URL it prints.
 * The group lets a test kill the engine alone (kill -9 of its pid), as a crash would.
 */
export function serve(
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; startTimeoutMs?: number },
): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
      cwd: opts.cwd ?? REPO,
      env: opts.env,
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let err = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.on('exit', (code, signal) => r({ code, signal })),
    );
    const timer = setTimeout(
      () => reject(new Error(`sluice serve did not start: ${err}`)),
      opts.startTimeoutMs ?? 20_000,
    );
    child.stderr?.on('data', (d) => {
      err += d;
      const m = /serving (http:\/\/[^\s/]+)\/api\/v1/.exec(err);
      const link = /dashboard: \S+#token=(\S+)/.exec(err);
      if (m?.[1] && (link?.[1] || /--no-auth/.test(err))) {
        clearTimeout(timer);
        const token = link?.[1];
        resolve({
          child,
          url: m[1],
          token,
          headers: token ? { authorization: `Bearer ${token}` } : {},
          stderr: () => err,
          exited,
        });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`sluice serve exited with ${code}: ${err}`));
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
