// The worker container's entry point in a child process, with the emulated stack's environment
// (`sluice serve --backend aws`): from the build, the bundle the worker image runs (dist/worker,
// made by `npm run build` with dist/), so users and CI take the image's path; from the sources,
// container-tasks/worker.ts through tsx (a bundle could be older than the sources).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AWS_ENV, WORKER_BUNDLE_ENTRY, WORKER_ENTRY } from '../../adapters/aws/config.ts';

export interface WorkerProcess {
  /** SIGTERM (the worker drains its running tasks), then waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * This module in the sources, compiled into dist/shared/runtime/aws-emulated/ beside dist/worker,
 * or inside that bundle (dist/worker/shared/..., the CLI `sluice` runs when it was built).
 */
const compiled = import.meta.url.endsWith('.js');
const inBundle = compiled && import.meta.url.includes('/dist/worker/shared/');
const PACKAGE_ROOT = fileURLToPath(
  new URL(inBundle ? '../../../../../' : compiled ? '../../../../' : '../../../', import.meta.url),
);
const BUILT_BUNDLE = join(PACKAGE_ROOT, 'dist', 'worker');

/**
 * The command that runs the worker: `bundle`'s entry (a directory made by
 * scripts/bundle-worker.mjs), else the build's bundle when this module runs from the build and
 * it is there, else the TypeScript entry through tsx resolved from this package (not the cwd).
 */
export function workerCommand(bundle?: string): string[] {
  const dir =
    bundle ?? (compiled && existsSync(join(BUILT_BUNDLE, WORKER_BUNDLE_ENTRY)) ? BUILT_BUNDLE : undefined);
  if (dir) return [process.execPath, join(dir, WORKER_BUNDLE_ENTRY)];
  return [process.execPath, '--import', import.meta.resolve('tsx'), join(PACKAGE_ROOT, WORKER_ENTRY)];
}

/** Starts the worker with `slots` task slots; `onError` hears of an exit nobody asked for. */
export function startWorkerProcess(
  env: NodeJS.ProcessEnv,
  slots: number,
  onError: (err: unknown) => void,
  bundle?: string,
): WorkerProcess {
  const [node, ...args] = workerCommand(bundle) as [string, ...string[]];
  const child = spawn(node, args, {
    env: {
      ...env,
      [AWS_ENV.workerSlots]: String(slots),
      // The code cache of user algorithms (EFS in a deployment).
      [AWS_ENV.sharedVolumePath]: env[AWS_ENV.sharedVolumePath] ?? join(tmpdir(), 'sluice-aws-worker'),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) onError(new Error(`the worker process exited (${signal ?? `code ${code}`})`));
  });
  return {
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
