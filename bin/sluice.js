#!/usr/bin/env node
// The `sluice` command. Runs the CLI compiled to dist/ (npm's `prepare` builds it on install; its
// bundle in dist/worker when there is one, see build-freshness.js) when that build matches the
// sources; otherwise, e.g. after a .ts file was edited, the TypeScript sources through tsx's
// loader (0.2–0.6 s slower to start, by command; never stale). SLUICE_DEBUG=1 says which.
// CommonJS on purpose (bin/package.json): libuv sizes its threadpool once, when first used, and
// loading an ES module entry already uses it. The IO commands keep 128+ file operations in flight
// on network volumes, which the default 4 threads would serialise, so the size is set here before
// anything else runs: dist/cli/threadpool.cjs (its one-file bundle; else dist/cli/threadpool.js,
// loaded with a synchronous require, which leaves the pool alone) says how many the command line
// needs; 256 when it cannot be asked.
// The AWS SDK warns on every S3 command under Node 20 that SDK releases after January 2027 need
// Node 22. Sluice's SDK version is pinned by its lockfile, so the warning says nothing about this
// install; the move to Node 22 is tracked by the project, not printed at users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

require('./v8-flags.js').applyV8Flags();

const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { freshDistEntry } = require('./build-freshness.js');

const root = join(__dirname, '..');

/** The first of `paths` that loads. */
function requireFirst(paths) {
  for (const p of paths.slice(0, -1)) {
    try {
      return require(p);
    } catch (err) {
      if (err.code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  return require(paths[paths.length - 1]);
}
const dist = freshDistEntry(root);
if (process.env.UV_THREADPOOL_SIZE === undefined) {
  let size = 256;
  if (dist.entry) {
    try {
      const { threadpoolSize } = requireFirst([
        join(root, 'dist', 'cli', 'threadpool.cjs'), // the build's one-file bundle of it
        join(root, 'dist', 'cli', 'threadpool.js'),
      ]);
      size = threadpoolSize(process.argv.slice(2)) ?? 4;
    } catch {
      // Node without require(esm) (< 20.19), or a build without the file: the generous default.
    }
  }
  process.env.UV_THREADPOOL_SIZE = String(size);
}

(async () => {
  if (process.env.SLUICE_DEBUG) {
    process.stderr.write(
      dist.entry
        ? `sluice: running the ${dist.entry.endsWith(join('worker', 'cli.js')) ? 'bundle in dist/worker/' : 'build in dist/'} (${process.env.UV_THREADPOOL_SIZE} threads)\n`
        : `sluice: running the TypeScript sources through tsx (${dist.stale}; ${process.env.UV_THREADPOOL_SIZE} threads)\n`,
    );
  }
  let cli;
  if (dist.entry) cli = await import(pathToFileURL(dist.entry).href);
  else {
    const { register } = await import('tsx/esm/api');
    register();
    cli = await import('../cli/main.ts');
  }
  process.exitCode = await cli.main(process.argv);
})();
