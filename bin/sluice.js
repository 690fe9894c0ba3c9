#!/usr/bin/env node
// The `sluice` command. Runs the CLI compiled to dist/ (npm's `prepare` builds it on install) when
// that build matches the sources; otherwise, e.g. after a .ts file was edited, the TypeScript
// sources through tsx's loader (about 0.3 s slower to start, never stale). SLUICE_DEBUG=1 says which.
// CommonJS on purpose (bin/package.json): libuv sizes its threadpool once, when first used, and
// loading an ES module entry already uses it. The IO commands keep 128+ file operations in flight,
// which the default 4 threads would serialise, so the size is set here before anything else runs.
process.env.UV_THREADPOOL_SIZE ??= '256';
// The AWS SDK warns on every S3 command under Node 20 that SDK releases after January 2027 need
// Node 22. Sluice's SDK version is pinned by its lockfile, so the warning says nothing about this
// install; the move to Node 22 is tracked by the project, not printed at users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { freshDistEntry } = require('./build-freshness.js');

(async () => {
  const dist = freshDistEntry(join(__dirname, '..'));
  if (process.env.SLUICE_DEBUG) {
    process.stderr.write(
      dist.entry
        ? `sluice: running the build in dist/\n`
        : `sluice: running the TypeScript sources through tsx (${dist.stale})\n`,
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
