// The worker image cannot be built here (no Docker engine), so its recipe is checked as text:
// what it copies exists and is in the build context, and it runs the contract's worker entry.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, WORKER_DOCKERFILE, WORKER_UID } from '../../infra/stacks/workers-stack.ts';
import { WORKER_ENTRY } from '../../shared/adapters/aws/config.ts';
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
  it('copies only paths that exist in the repository and are in the build context', () => {
    expect(copiedFromContext).toEqual([
      'package.json',
      'package-lock.json',
      'package.json',
      'shared',
      'container-tasks',
      'bin',
      'cli',
    ]);
    for (const src of copiedFromContext) {
      expect(existsSync(path.join(REPO_ROOT, src)), src).toBe(true);
      // .dockerignore is an allowlist: `*` then `!<path>` per copied path.
      expect(dockerignore, src).toContain(
        ['shared', 'container-tasks', 'bin', 'cli'].includes(src) ? `!${src}/` : `!${src}`,
      );
    }
    expect(dockerignore[0]).toBe('*');
  });

  it('runs the worker entry of the AWS contract, which the copied directories contain', () => {
    const entrypoint = instructions.filter((l) => /^(ENTRYPOINT|CMD)\s/.test(l));
    expect(entrypoint).toHaveLength(1);
    expect(JSON.parse(entrypoint[0]!.replace(/^ENTRYPOINT\s+/, ''))).toEqual([
      'node',
      '--import',
      'tsx',
      WORKER_ENTRY,
    ]);
    expect(copiedFromContext).toContain(WORKER_ENTRY.split('/')[0]);
    // After the runtime branch is merged the entry must exist; before, only the contract is checked.
    if (existsSync(path.join(REPO_ROOT, 'functions'))) {
      expect(existsSync(path.join(REPO_ROOT, WORKER_ENTRY)), WORKER_ENTRY).toBe(true);
    }
  });

  it('uses Node 22 slim with python3, installs production dependencies only, and drops root', () => {
    const from = instructions.filter((l) => l.startsWith('FROM '));
    expect(from.every((l) => /^FROM node:22-slim\b/.test(l))).toBe(true);
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends python3 ca-certificates/);
    expect(dockerfile).toMatch(/npm ci --omit=dev --ignore-scripts/);
    const users = instructions.filter((l) => l.startsWith('USER '));
    expect(users.at(-1)).toBe('USER node'); // uid 1000 in node images
    expect(WORKER_UID).toBe('1000');
    // tsx runs the TypeScript entry at run time, so it must be a production dependency.
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(pkg.dependencies.tsx).toBeDefined();
    // Scripts are off in the image: every production package with an install script must be
    // rebuilt by name, except esbuild (its binary comes from an optional dependency; the script
    // only verifies it).
    const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8'));
    const scripted = Object.entries(
      lock.packages as Record<string, { hasInstallScript?: boolean; dev?: boolean }>,
    )
      .filter(([name, p]) => p.hasInstallScript && !p.dev && name.startsWith('node_modules/'))
      .map(([name]) => name.slice('node_modules/'.length))
      .filter((name) => name !== 'esbuild' && !name.includes('/node_modules/'));
    expect(scripted.length).toBeGreaterThan(0);
    for (const name of scripted)
      expect(dockerfile, name).toMatch(new RegExp(`npm rebuild [^\\n]*\\b${name}\\b`));
  });

  it('sizes the threadpool for file calls on EFS before node starts', () => {
    expect(instructions).toContain(`ENV UV_THREADPOOL_SIZE=${NETWORK_VOLUME_THREADS}`);
  });
});
