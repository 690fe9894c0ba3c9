// The worker machine's read-through dataset cache (shared/cache), for tasks of pipelines with
// `options.cache`: one cache server per machine, shared by all the pool's workers. Started on the
// first task that asks for it, as a child process of its own (`sluice cache serve`), so serving
// cached bytes never competes with the engine's event loop; a server another engine on this
// machine already runs on the same directory is used as it is. A cache that died is started again
// on the next task that needs it.
import { type ChildProcess, spawn } from 'node:child_process';
import { liveServer } from '../cache/cache-dir.ts'; // not the index: the cache's server loads only when started

export interface DatasetCacheOptions {
  /** The cache directory (one server per directory). */
  dir: string;
  /** `--max-size` of the server, e.g. `10G`. */
  maxSize: string;
  /** argv that starts `sluice cache serve` (the pool adds --dir, --max-size, --port 0, -q). */
  command: string[];
  env?: NodeJS.ProcessEnv;
  /** How long a starting server may take to print its URL. Default 30 s. */
  startTimeoutMs?: number;
  /** Run the server as this user, HOME=/tmp (the worker is root; see algorithm-isolation.ts). */
  user?: { uid: number; gid: number };
}

export class DatasetCache {
  private child?: ChildProcess;
  private starting?: Promise<string>;

  constructor(private readonly options: DatasetCacheOptions) {}

  /** The cache's base URL, starting the server if none serves the directory. */
  url(): Promise<string> {
    this.starting ??= this.locateOrStart().catch((err: Error) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.starting = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private async locateOrStart(): Promise<string> {
    const running = await liveServer(this.options.dir);
    if (running?.url) return running.url;
    try {
      return await this.start();
    } catch (err) {
      // Another engine on this machine may have started one on the directory meanwhile.
      const other = await liveServer(this.options.dir);
      if (other?.url) return other.url;
      throw err;
    }
  }

  private start(): Promise<string> {
    const { command, dir, maxSize, env, startTimeoutMs = 30_000, user } = this.options;
    const [bin, ...args] = command;
    if (!bin) return Promise.reject(new Error('no command to start the dataset cache'));
    const child = spawn(bin, [...args, '--dir', dir, '--max-size', maxSize, '--port', '0', '-q'], {
      env: user ? { ...(env ?? process.env), HOME: '/tmp' } : (env ?? process.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...user,
    });
    this.child = child;
    return new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`the dataset cache (${dir}) did not start: ${why}`));
      };
      const timer = setTimeout(() => fail(`no URL after ${startTimeoutMs} ms`), startTimeoutMs);
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const nl = out.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        child.stdout?.removeAllListeners('data').resume();
        resolve(out.slice(0, nl).trim());
      });
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        err = (err + chunk).slice(-2000);
      });
      child.once('error', (e) => fail(e.message));
      child.once('exit', (code, signal) => {
        if (this.child === child) {
          this.child = undefined;
          this.starting = undefined;
        }
        fail(`exited with ${signal ?? code}${err.trim() ? `: ${err.trim().split('\n').pop()}` : ''}`);
      });
    });
  }
}

/** The environment a task's process sees when it reads through the cache at `url`. */
export function cachedEnv(env: NodeJS.ProcessEnv, url: string): NodeJS.ProcessEnv {
  return { ...env, AWS_ENDPOINT_URL_S3: url, SLUICE_CACHE_URL: url, SLUICE_S3_FORCE_PATH_STYLE: '1' };
}

/** The cache a task with `cache` reads through; none (said in its logs) where it has none or it cannot start. */
export async function cacheFor(
  cache: DatasetCache | undefined,
): Promise<{ cacheUrl?: string; warning?: string }> {
  if (!cache)
    return { warning: 'warning: options.cache: this worker has no dataset cache; reading origins directly' };
  try {
    return { cacheUrl: await cache.url() };
  } catch (err) {
    return { warning: `warning: options.cache: ${(err as Error).message}; reading origins directly` };
  }
}
