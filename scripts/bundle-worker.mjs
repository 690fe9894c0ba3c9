// Bundles the worker container's entry (container-tasks/worker.ts) with esbuild into a directory
// that runs with node alone: no TypeScript loader, no node_modules but the native packages the
// bundle cannot hold. The worker image copies this directory and nothing else from the sources;
// `sluice serve --backend aws` runs the same files as its worker process (dist/worker, made by
// `npm run build`), and bin/sluice.js runs its CLI entry: one bundle starts ~0.08 s sooner than the
// ~300 modules of the file-for-file build (bin/build-freshness.js).
//
// The worker loads some files by URL at run time rather than by import: the hosts that run user
// algorithms and built-ins (python_host.py, node_host.mjs, builtin_host.mjs), the built-in and
// object-store modules the builtin host imports, the modules of IO worker threads, and the CLI (the
// pool starts `sluice cache serve`). Each finds them relative to its own import.meta.url, so the
// output keeps the source tree's layout for them: every bundled module's import.meta.url is the
// path its source would have in the tree (shared/runner/worker-pool.js for worker-pool.ts), and at
// those paths sit the copied assets and small stubs that import the bundled entry points. The
// bundled code itself lives in flat files at the top, where every module's import.meta.url is
// rewritten relative to.
//
// Usage: node scripts/bundle-worker.mjs [outDir] [--require-helpers]   (default dist/worker)
//   --require-helpers (the image build): fail when a C helper cannot be compiled, instead of warning.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The bundle's entry points: flat output name -> source. Each also gets a stub at the source's own
 * path (with .js), which is where the code that loads it by URL looks.
 */
export const WORKER_BUNDLE_ENTRIES = {
  worker: 'container-tasks/worker.ts',
  builtins: 'shared/builtins/index.ts',
  's3-object-stores': 'shared/adapters/aws/s3-object-stores.ts',
  'small-file-thread': 'shared/io/fetch/tar/small-file-thread.ts',
  'lz4-block-thread': 'shared/io/fetch/lz4-block-thread.ts',
  cli: 'cli/main.ts',
};

/** Files loaded by path at run time, copied to the same place in the bundle. */
const ASSETS = [
  'shared/runner/python_host.py',
  'shared/runner/node_host.mjs',
  'shared/runner/builtin_host.mjs',
  'shared/runner/container_bridge.mjs',
];

/**
 * Native packages (a .node binary per platform) stay out of the bundle and are copied with their
 * installed dependencies. better-sqlite3 is the embedded backend's and never loaded by the worker.
 */
const NATIVE = ['lz4-napi', 'better-sqlite3'];
const COPIED_NATIVE = ['lz4-napi'];

/**
 * The C helpers the worker uses (rm -r on local trees, the process starter of commands and
 * recipes), compiled here when a compiler is present.
 */
const HELPERS = [
  { name: 'rm-tree', module: 'shared/io/native/rm-tree-source.ts', export: 'RM_TREE_C' },
  {
    name: 'process-starter',
    module: 'shared/io/native/process-starter-source.ts',
    export: 'PROCESS_STARTER_C',
  },
];

/** Rewrites `import.meta.url` in every source module to the URL its file has in the source layout. */
const sourceLayoutUrls = {
  name: 'source-layout-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const contents = readFileSync(args.path, 'utf8');
      if (args.path.includes(`${sep}node_modules${sep}`) || !contents.includes('import.meta.url')) return;
      const path = relative(root, args.path).split(sep).join('/').replace(/\.ts$/, '.js');
      return {
        contents: contents.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(`./${path}`)}, import.meta.url).href`,
        ),
        loader: 'ts',
      };
    });
  },
};

/** `pkg` and the packages it depends on that are installed, copied under `outDir/node_modules`. */
function copyPackage(pkg, fromDir, outDir, done) {
  if (done.has(pkg)) return;
  // Looked up as node does, without `exports` (which may not list package.json).
  const manifest = (createRequire(join(fromDir, 'noop.js')).resolve.paths(pkg) ?? [])
    .map((dir) => join(dir, pkg, 'package.json'))
    .find((file) => existsSync(file));
  if (!manifest) return; // an optional dependency for another platform
  done.add(pkg);
  const dir = dirname(manifest);
  cpSync(dir, join(outDir, 'node_modules', pkg), {
    recursive: true,
    dereference: true,
    filter: (src) => !/\.(?:d\.[cm]?ts|md)$/.test(src), // nothing node loads
  });
  const { dependencies = {}, optionalDependencies = {} } = JSON.parse(readFileSync(manifest, 'utf8'));
  for (const dep of Object.keys({ ...dependencies, ...optionalDependencies }))
    copyPackage(dep, dir, outDir, done);
}

/** Compiles HELPERS into outDir beside compiled-helper's own path; returns the names built. */
async function compileHelpers(esbuild, outDir) {
  const cc = process.env.CC ?? 'cc';
  const code = HELPERS.map(
    (h, i) => `export { ${h.export} as h${i} } from ${JSON.stringify(join(root, h.module))};`,
  );
  code.push(
    `export { helperFileName } from ${JSON.stringify(join(root, 'shared/io/native/compiled-helper.ts'))};`,
  );
  const { outputFiles } = await esbuild.build({
    stdin: { contents: code.join('\n'), resolveDir: root, loader: 'ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
  });
  const dir = join(outDir, 'shared', 'io', 'native', 'helpers');
  mkdirSync(dir, { recursive: true });
  const sources = join(dir, 'sources.mjs');
  writeFileSync(sources, outputFiles[0].text);
  const mod = await import(pathToFileURL(sources).href).finally(() => rmSync(sources));
  const built = [];
  for (const [i, h] of HELPERS.entries()) {
    const source = mod[`h${i}`];
    const src = join(dir, `${h.name}.c`);
    writeFileSync(src, source);
    try {
      execFileSync(cc, ['-O2', '-o', join(dir, mod.helperFileName(h.name, source)), src], { stdio: 'pipe' });
      built.push(h.name);
    } catch (err) {
      console.warn(
        `sluice: ${h.name} not prebuilt (${cc}: ${err.code ?? err.message}); the worker compiles it at first use if it has a compiler, else uses its JS fallback`,
      );
    } finally {
      rmSync(src, { force: true });
    }
  }
  return built;
}

/** Writes the worker bundle into `outDir` (emptied first); returns what it holds. */
export async function bundleWorker(outDir = join(root, 'dist', 'worker')) {
  const esbuild = await import('esbuild');
  outDir = resolve(outDir);
  rmSync(outDir, { recursive: true, force: true });
  const entryPoints = Object.fromEntries(
    Object.entries(WORKER_BUNDLE_ENTRIES).map(([name, src]) => [name, join(root, src)]),
  );
  const result = await esbuild.build({
    entryPoints,
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Chunks beside the entries: every bundled module's import.meta.url is then a top-level file's.
    chunkNames: 'chunk-[hash]',
    external: NATIVE,
    // CommonJS dependencies call require(); give them one inside the ESM bundle.
    banner: {
      js: "import { createRequire as __sluiceCreateRequire } from 'node:module'; const require = __sluiceCreateRequire(import.meta.url);",
    },
    plugins: [sourceLayoutUrls],
    metafile: true,
    logLevel: 'warning',
  });
  for (const [name, src] of Object.entries(WORKER_BUNDLE_ENTRIES)) {
    const stub = join(outDir, src.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(stub), { recursive: true });
    const target = relative(dirname(stub), join(outDir, `${name}.js`))
      .split(sep)
      .join('/');
    writeFileSync(stub, `export * from ${JSON.stringify(target)};\n`);
  }
  for (const asset of ASSETS) cpSync(join(root, asset), join(outDir, asset));
  // `sluice` for the worker pool's `sluice cache serve`: the bundled CLI, threadpool sized as bin/sluice.js does.
  mkdirSync(join(outDir, 'bin'), { recursive: true });
  writeFileSync(
    join(outDir, 'bin', 'sluice.js'),
    "// The bundled CLI, for the worker pool's `sluice cache serve`. Commands of the embedded backend\n" +
      '// need better-sqlite3, which the bundle does not carry: in a checkout, node finds it in the\n' +
      "// repository's node_modules (bin/sluice.js runs the bundle's cli.js there).\n" +
      "process.env.UV_THREADPOOL_SIZE ??= '256';\nprocess.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';\n" +
      "const { main } = await import('../cli.js');\nprocess.exitCode = await main(process.argv);\n",
  );
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify({ type: 'module', private: true })}\n`);
  const copied = new Set();
  for (const pkg of COPIED_NATIVE) copyPackage(pkg, root, outDir, copied);
  const helpers = await compileHelpers(esbuild, outDir);
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { outDir, bytes, packages: [...copied], helpers };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  try {
    const out = await bundleWorker(args.find((a) => !a.startsWith('--')));
    const where = relative(process.cwd(), out.outDir);
    console.log(
      `sluice: bundled the worker into ${where.startsWith('..') ? out.outDir : where} (${(out.bytes / 1e6).toFixed(1)} MB of JS; native: ${out.packages.join(', ') || 'none'}; prebuilt helpers: ${out.helpers.join(', ') || 'none'})`,
    );
    const missing = HELPERS.map((h) => h.name).filter((n) => !out.helpers.includes(n));
    if (args.includes('--require-helpers') && missing.length) {
      throw new Error(`helpers not compiled: ${missing.join(', ')}`);
    }
  } catch (err) {
    console.error(`sluice bundle: ${err.message}`);
    process.exit(1);
  }
}
