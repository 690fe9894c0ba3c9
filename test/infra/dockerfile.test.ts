// The worker image cannot be built here (no Docker engine), so its recipe is checked as text: a
// pinned base, a build stage that bundles the worker from what the context holds, and a final
// stage that holds only the bundle (no compiler, no TypeScript loader) and runs its entry.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, WORKER_DOCKERFILE, WORKER_UID } from '../../infra/stacks/workers-stack.ts';
import { WORKER_BUNDLE_ENTRY } from '../../shared/adapters/aws/config.ts';
import { NETWORK_VOLUME_THREADS } from '../../shared/io/constants.ts';

const dockerfile = readFileSync(path.join(REPO_ROOT, WORKER_DOCKERFILE), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const dockerignore = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** The instructions of each stage, FROM first. */
const stages = instructions.reduce<string[][]>((acc, l) => {
  if (l.startsWith('FROM ')) acc.push([l]);
  else acc.at(-1)?.push(l);
  return acc;
}, []);
const finalStage = stages.at(-1) ?? [];

/** Sources of `COPY` from the build context (not `--from=` another stage). */
const copiedFromContext = instructions
  .filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l))
  .flatMap((l) =>
    l
      .split(/\s+/)
      .slice(1, -1)
      .filter((a) => !a.startsWith('--')),
  );

describe('container-tasks/Dockerfile', () => {
  it('pins every stage to one exact Node 22 Debian slim release', () => {
    const bases = stages.map((s) => /^FROM (\S+)/.exec(s[0] as string)?.[1]);
    expect(bases.length).toBe(2);
    for (const base of bases)
      expect(base).toMatch(/^node:22\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    expect(new Set(bases).size).toBe(1);
  });

  it('copies only paths that exist in the repository and are in the build context', () => {
    expect(copiedFromContext).toEqual([
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'scripts/bundle-worker.mjs',
      'shared',
      'container-tasks',
      'cli',
    ]);
    for (const src of copiedFromContext) {
      expect(existsSync(path.join(REPO_ROOT, src)), src).toBe(true);
      // .dockerignore is an allowlist: `*` then `!<path>` per copied path.
      expect(dockerignore, src).toContain(
        ['shared', 'container-tasks', 'cli'].includes(src) ? `!${src}/` : `!${src}`,
      );
    }
    expect(dockerignore[0]).toBe('*');
  });

  it('bundles the worker in the build stage and the final stage holds only that bundle', () => {
    expect(stages[0]).toContain('RUN node scripts/bundle-worker.mjs /worker --require-helpers');
    expect(stages[0]?.some((l) => /npm ci --omit=dev --ignore-scripts/.test(l))).toBe(true);
    const copies = finalStage.filter((l) => l.startsWith('COPY '));
    expect(copies).toEqual(['COPY --from=build /worker ./']);
    // No compiler where the worker runs: the C helpers come compiled from the build stage.
    const installs = finalStage.filter((l) => l.includes('apt-get install')).join(' ');
    expect(installs).toMatch(/--no-install-recommends python3 ca-certificates/);
    expect(installs).not.toMatch(/\b(gcc|g\+\+|make|clang|build-essential)\b/);
    expect(finalStage.join('\n')).not.toMatch(/npm (ci|install|rebuild)/);
  });

  it('runs the bundled worker entry with node alone: no tsx, no loader', () => {
    const entry = instructions.filter((l) => /^(ENTRYPOINT|CMD)\s/.test(l));
    expect(entry).toHaveLength(1);
    expect(JSON.parse(entry[0]!.replace(/^(ENTRYPOINT|CMD)\s+/, ''))).toEqual(['node', WORKER_BUNDLE_ENTRY]);
    expect(instructions.join('\n')).not.toMatch(/--import|--loader|\btsx\b/);
  });

  it('needs no install script of what the bundle copies, and drops root', () => {
    // --ignore-scripts in the build stage: the native package the bundle carries (lz4-napi, see
    // scripts/bundle-worker.mjs) must get its binary from a platform package, not a script.
    const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8'));
    expect(lock.packages['node_modules/lz4-napi'].hasInstallScript).toBeUndefined();
    expect(Object.keys(lock.packages['node_modules/lz4-napi'].optionalDependencies)).toEqual(
      expect.arrayContaining([
        '@antoniomuso/lz4-napi-linux-x64-gnu',
        '@antoniomuso/lz4-napi-linux-arm64-gnu',
      ]),
    );
    const users = finalStage.filter((l) => l.startsWith('USER '));
    expect(users.at(-1)).toBe('USER node'); // uid 1000 in node images
    expect(WORKER_UID).toBe('1000');
  });

  it('sizes the threadpool for file calls on EFS before node starts', () => {
    expect(finalStage).toContain(`ENV UV_THREADPOOL_SIZE=${NETWORK_VOLUME_THREADS}`);
  });
});
