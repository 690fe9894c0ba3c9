// The worker container's start-up, bundle (what the image runs) against the TypeScript entry
// through tsx (what the image ran before): from `node` to the worker reading its configuration,
// i.e. with every module it imports loaded; it then stops on the missing queue URLs. Also the
// size of what each image adds to the base: the bundle directory against the sources and the
// production node_modules the old image copied.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKER_BUNDLE_ENTRY, WORKER_ENTRY } from '../../shared/adapters/aws/config.ts';
import { comparePair } from '../rig/compare.ts';
import { REPO_ROOT } from '../rig/daemons.ts';
import { describeRun } from '../rig/report.ts';
import type { BenchSuite } from '../types.ts';

/** Bytes of the files under `path` (not following links), nested node_modules left out when asked. */
function bytesUnder(path: string, skipNodeModules = false): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (e.isSymbolicLink()) continue;
    if (skipNodeModules && e.name === 'node_modules') continue;
    n += e.isDirectory()
      ? bytesUnder(join(path, e.name), skipNodeModules)
      : statSync(join(path, e.name)).size;
  }
  return n;
}

/** What the old image copied: the production packages of the lockfile installed here, and the sources. */
function oldImageBytes(): number {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  let n = 0;
  for (const [path, p] of Object.entries(lock.packages))
    if (path.startsWith('node_modules/') && !p.dev) n += bytesUnder(join(REPO_ROOT, path), true);
  for (const dir of ['shared', 'cli', 'bin', 'container-tasks', 'package.json'])
    n += bytesUnder(join(REPO_ROOT, dir));
  return n;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export const workerStartSuite: BenchSuite = {
  name: 'worker-start',
  description:
    'worker container start-up: the bundle (image) vs container-tasks/worker.ts through tsx; image payload',
  async run(args) {
    const runs = Number(/^--runs=(\d+)$/.exec(args.find((a) => a.startsWith('--runs=')) ?? '')?.[1] ?? 10);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-worker-'));
    try {
      const bundle = join(dir, 'worker');
      execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/bundle-worker.mjs'), bundle], {
        stdio: 'ignore',
      });
      console.log(describeRun());
      // Exits 1 on the missing SLUICE_TASK_QUEUE_URLS, after every module is loaded; anything else fails.
      const upTo = (cmd: string) => `out=$(${cmd} 2>&1) || grep -q SLUICE_TASK_QUEUE_URLS <<<"$out"`;
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, SLUICE_TASK_EVENT: '{}' };
      const r = await comparePair(
        {
          what: 'worker start-up to reading its configuration',
          candidate: upTo(`node ${join(bundle, WORKER_BUNDLE_ENTRY)}`),
          baseline: upTo(`node --import tsx ${WORKER_ENTRY}`),
          runs,
        },
        { env, cwd: REPO_ROOT },
      );
      console.log(
        `bundle ${(r.candidate * 1000).toFixed(0)} ms, tsx ${(r.baseline * 1000).toFixed(0)} ms (medians of ${runs}): ` +
          `**${r.ratio.toFixed(2)}×** faster; load ${Math.min(...r.loads).toFixed(1)}–${Math.max(...r.loads).toFixed(1)}`,
      );
      console.log(
        `image payload over the base (+ python3): bundle ${mb(bytesUnder(bundle))}; ` +
          `before: ${mb(oldImageBytes())} (production node_modules as installed here + the sources)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
