#!/usr/bin/env node
// The `sluice` command: runs the TypeScript CLI through tsx's loader, so no build step is needed.
// CommonJS on purpose (bin/package.json): libuv sizes its threadpool once, when first used, and
// loading an ES module entry already uses it. The IO commands keep 128+ file operations in flight,
// which the default 4 threads would serialise, so the size is set here before anything else runs.
process.env.UV_THREADPOOL_SIZE ??= '256';
// The AWS SDK warns on every S3 command under Node 20 that SDK releases after January 2027 need
// Node 22. Sluice's SDK version is pinned by its lockfile, so the warning says nothing about this
// install; the move to Node 22 is tracked by the project, not printed at users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

(async () => {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../cli/main.ts');
  process.exitCode = await main(process.argv);
})();
