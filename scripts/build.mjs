// Compiles the CLI and everything it loads at run time (cli/, shared/) to JavaScript in dist/, file
// for file (tsconfig.build.json), so `sluice` starts without a TypeScript loader, and bundles the
// worker container's entry into dist/worker (scripts/bundle-worker.mjs). The layout is kept
// so paths resolved against import.meta.url still work; the files loaded by URL (the worker hosts'
// .mjs and .py) are copied beside the output. Writes dist/build-stamp.json last: bin/sluice.js
// runs dist/ only while that stamp matches the sources (bin/build-freshness.js).
//
// Usage: node scripts/build.mjs [--if-possible]
//   --if-possible (the `prepare` script): a build that cannot run (no TypeScript installed, as with
//   `npm ci --omit=dev`) or fails only warns; `sluice` then runs the sources through tsx.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import freshness from '../bin/build-freshness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const ifPossible = process.argv.includes('--if-possible');

/**
 * dist/cli/threadpool.cjs: cli/threadpool.ts and what it imports as one CommonJS file, which
 * bin/sluice.js requires before anything else on every command (~3 ms; the ES modules of
 * dist/cli/threadpool.js load through require(esm) in ~10). Without esbuild, bin/sluice.js loads
 * those.
 */
async function bundleThreadpool() {
  if (!existsSync(join(root, 'cli', 'threadpool.ts'))) return;
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return;
  }
  try {
    await esbuild.build({
      entryPoints: [join(root, 'cli', 'threadpool.ts')],
      outfile: join(root, 'dist', 'cli', 'threadpool.cjs'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'warning',
    });
  } catch (err) {
    console.warn(
      `sluice: could not bundle cli/threadpool.ts (${err.message}); dist/cli/threadpool.js is used`,
    );
  }
}

async function build() {
  // Read before compiling: a file edited while tsc runs then no longer matches the stamp.
  const sources = freshness.sourceMtimes(root);
  rmSync(join(root, freshness.STAMP), { force: true });
  for (const dir of freshness.SOURCE_ROOTS) rmSync(join(root, 'dist', dir), { recursive: true, force: true });

  let tsc;
  try {
    // The package exports no bin path: its package.json says where tsc is.
    const manifest = createRequire(import.meta.url).resolve('typescript/package.json');
    tsc = join(dirname(manifest), JSON.parse(readFileSync(manifest, 'utf8')).bin.tsc);
  } catch {
    throw new Error('TypeScript is not installed (a dev dependency)');
  }
  const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (compiled.status !== 0) throw new Error(`tsc -p tsconfig.build.json exited with ${compiled.status}`);

  for (const path of Object.keys(sources)) {
    if (!freshness.SOURCE_ROOTS.some((dir) => path.startsWith(`${dir}/`)) || /\.[cm]?ts$/.test(path))
      continue;
    const to = join(root, 'dist', path);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(root, path), to);
  }

  await bundleThreadpool();

  // The worker container's entry as one bundle (dist/worker): what the image and
  // `sluice serve --backend aws` run as the worker process.
  if (existsSync(join(root, 'container-tasks', 'worker.ts'))) {
    const { bundleWorker } = await import('./bundle-worker.mjs');
    const worker = await bundleWorker(join(root, 'dist', 'worker'));
    console.log(`sluice: bundled the worker into dist/worker (${(worker.bytes / 1e6).toFixed(1)} MB)`);
  }

  await writePrecompiledValidators();

  const stamp = join(root, freshness.STAMP);
  writeFileSync(
    `${stamp}.tmp`,
    `${JSON.stringify({ builtAt: new Date().toISOString(), sources }, null, 1)}\n`,
  );
  renameSync(`${stamp}.tmp`, stamp);
  return Object.keys(sources).length;
}

/**
 * ajv's standalone code of the descriptor and request body validators, beside the modules that
 * load them in dist/ and in dist/worker's bundle (shared/pipeline/precompiled-validators.ts). A
 * failure only warns: those validators are then compiled at run time, as from the sources.
 */
async function writePrecompiledValidators() {
  try {
    const dist = (path) => pathToFileURL(join(root, 'dist', path)).href;
    const { descriptorValidatorsModule } = await import(dist('shared/pipeline/schema-validator.js'));
    const { routeBodyValidatorsModule } = await import(dist('shared/api/router.js'));
    const modules = [
      ['shared/pipeline', descriptorValidatorsModule()],
      ['shared/api', routeBodyValidatorsModule()],
    ];
    for (const base of ['dist', join('dist', 'worker')]) {
      if (!existsSync(join(root, base))) continue;
      for (const [dir, { file, code }] of modules) {
        mkdirSync(join(root, base, dir), { recursive: true });
        writeFileSync(join(root, base, dir, file), code);
      }
    }
  } catch (err) {
    console.warn(`sluice: validators not precompiled (${err.message}); they compile at first use`);
  }
}

try {
  const count = await build();
  console.log(`sluice: built dist/ from ${count} source files`);
  // The web dashboard's bundle: a failure only warns (`sluice serve` builds it when missing).
  if (existsSync(join(root, 'dashboard', 'src', 'main.ts'))) {
    try {
      const { buildDashboard } = await import('./dashboard-bundle.mjs');
      console.log(`sluice: built the dashboard into ${await buildDashboard()}`);
    } catch (err) {
      console.warn(`sluice: the dashboard was not built: ${err.message}`);
    }
  }
} catch (err) {
  if (!ifPossible) {
    console.error(`sluice build: ${err.message}`);
    process.exit(1);
  }
  console.warn(`sluice build skipped: ${err.message}; \`sluice\` will run the TypeScript sources via tsx`);
}
