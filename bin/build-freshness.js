// Decides whether dist/ (the CLI compiled to JavaScript by scripts/build.mjs) may run instead of
// the TypeScript sources. The build records the mtime of every source file it compiled; dist/ is
// fresh only if the same files exist now with the same mtimes, so an edit (even one that restores
// an older mtime), a new file or a deleted one sends `sluice` back to the sources through tsx.
// CommonJS and synchronous: bin/sluice.js runs it before anything else (~4 ms for ~400 files).
const { existsSync, readdirSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

/**
 * What the build compiles, bundles or copies into dist/, relative to the repository root
 * (container-tasks/: the worker's entry, in dist/worker's bundle).
 */
const SOURCE_ROOTS = ['cli', 'shared', 'container-tasks'];
/** Files outside SOURCE_ROOTS that change what the build emits. */
const BUILD_CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json'];
/** Source files the build reads (.ts) or copies as assets loaded by URL (.mjs, .py...). */
const TRACKED = /\.(?:[cm]?ts|[cm]?js|py|json)$/;
const STAMP = join('dist', 'build-stamp.json');
const ENTRY = join('dist', 'cli', 'main.js');
/**
 * The same CLI in the bundle the build also makes (dist/worker, scripts/bundle-worker.mjs), run
 * instead when it is there: one file and its chunks load in ~0.08 s less than the ~300 modules of
 * dist/cli, on every command. A build whose bundling failed (it only warns) runs dist/cli.
 */
const BUNDLE_ENTRY = join('dist', 'worker', 'cli.js');

/** The entry point of a fresh build: the bundle's when it was made. */
function builtEntry(root) {
  const bundle = join(root, BUNDLE_ENTRY);
  return existsSync(bundle) ? bundle : join(root, ENTRY);
}

/** Every tracked source file with its mtime in ms, keyed by its path relative to `root` (with '/'). */
function sourceMtimes(root) {
  const mtimes = {};
  // Paths put together with '/' (a path.join per file was a third of the walk's ~5 ms).
  const walk = (rel) => {
    const dir = `${root}/${rel}/`;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const name = entry.name;
      if (name.startsWith('.') || name === '__pycache__') continue;
      if (entry.isDirectory()) walk(`${rel}/${name}`);
      else if (TRACKED.test(name)) mtimes[`${rel}/${name}`] = statSync(dir + name).mtimeMs;
    }
  };
  for (const dir of SOURCE_ROOTS) if (existsSync(join(root, dir))) walk(dir);
  for (const file of BUILD_CONFIG_FILES) mtimes[file] = statSync(join(root, file)).mtimeMs;
  return mtimes;
}

/**
 * `{ entry }` (the absolute path of dist's CLI entry point) when dist/ was built from the sources
 * as they are now, else `{ stale }` saying why not.
 */
function freshDistEntry(root) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, STAMP), 'utf8'));
  } catch {
    return { stale: 'dist/ has not been built (npm run build)' };
  }
  // An installed package (npm install -g, a dependency) is never edited, and npm's tarballs give
  // every file the same fixed mtime, so the recorded mtimes cannot match: its build is the one.
  if (/[\\/]node_modules[\\/]/.test(root) && stamp.sources) return { entry: builtEntry(root) };
  const built = stamp.sources ?? {};
  let now;
  try {
    now = sourceMtimes(root);
  } catch (err) {
    return { stale: `cannot list the sources: ${err.message}` };
  }
  for (const [path, mtimeMs] of Object.entries(now)) {
    if (!(path in built)) return { stale: `${path} is not in the build` };
    if (built[path] !== mtimeMs) return { stale: `${path} changed since the build` };
  }
  for (const path of Object.keys(built)) {
    if (!(path in now)) return { stale: `${path} was deleted since the build` };
  }
  return { entry: builtEntry(root) };
}

module.exports = { SOURCE_ROOTS, STAMP, ENTRY, BUNDLE_ENTRY, TRACKED, sourceMtimes, freshDistEntry };
