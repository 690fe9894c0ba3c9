// Starts a worker thread from a TypeScript module of this package, in each way Sluice runs: the
// compiled `.js` under dist/ starts directly; the `.ts` source (tests, `sluice` without a build,
// the built-in host from source) starts in worker-thread-from-source.cjs, which compiles it.
// tsx's loader does not reach worker threads on Node 20 (it registers on the main thread only, as
// it cannot tell its own hooks thread from a worker), hence that bootstrap.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const FROM_SOURCE = new URL('./worker-thread-from-source.cjs', import.meta.url);

/**
 * The module `name` (a relative path without extension) beside `base`, the caller's
 * import.meta.url, with the caller's own extension: `.ts` beside the sources, `.js` in dist/.
 */
export function moduleBeside(name: string, base: string): URL {
  return new URL(`${name}${extname(fileURLToPath(base))}`, base);
}

/** A worker thread running `module` (a file URL, e.g. from moduleBeside). */
export function startWorkerThread(module: URL, options: WorkerOptions = {}): Worker {
  // The modules need none of this process's flags; its preloads would run in every thread (under
  // `tsx file.ts`, tsx's --import loader costs ~170 ms per thread and registers nothing there).
  const opts: WorkerOptions = { execArgv: [], ...options };
  if (!/\.[cm]?ts$/.test(module.pathname)) return new Worker(module, opts);
  return new Worker(FROM_SOURCE, { ...opts, argv: [...(options.argv ?? []), module.href] });
}
