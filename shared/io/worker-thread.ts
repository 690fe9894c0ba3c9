// Starts a worker thread from a TypeScript module of this package, in each way Sluice runs: the
// compiled `.js` under dist/ starts directly; the `.ts` source (tests, `sluice` without a build,
// the built-in host from source) starts in worker-thread-tsx.cjs. tsx's loader does not reach
// worker threads on Node 20 (it registers on the main thread only, as it cannot tell its own
// hooks thread from a worker), so that bootstrap registers tsx's require hook in the new thread
// first: measured ~50-100 ms more to start than the compiled module, paid only from source.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const TSX_BOOTSTRAP = new URL('./worker-thread-tsx.cjs', import.meta.url);

/**
 * The module `name` (a relative path without extension) beside `base`, the caller's
 * import.meta.url, with the caller's own extension: `.ts` beside the sources, `.js` in dist/.
 */
export function moduleBeside(name: string, base: string): URL {
  return new URL(`${name}${extname(fileURLToPath(base))}`, base);
}

/** A worker thread running `module` (a file URL, e.g. from moduleBeside). */
export function startWorkerThread(module: URL, options: WorkerOptions = {}): Worker {
  if (!/\.[cm]?ts$/.test(module.pathname)) return new Worker(module, options);
  return new Worker(TSX_BOOTSTRAP, { ...options, argv: [...(options.argv ?? []), module.href] });
}
