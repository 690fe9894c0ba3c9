#!/usr/bin/env node
// The `sluice` command: runs the TypeScript CLI through tsx's loader, so no build step is needed.
// CommonJS on purpose (bin/package.json): libuv sizes its threadpool once, when first used, and
// loading an ES module entry already uses it. The IO commands keep 128+ file operations in flight,
// which the default 4 threads would serialise, so the size is set here before anything else runs.
process.env.UV_THREADPOOL_SIZE ??= '256';

(async () => {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../cli/main.ts');
  process.exitCode = await main(process.argv);
})();
