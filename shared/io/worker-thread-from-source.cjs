// The entry of a worker thread whose module is TypeScript source (see worker-thread.ts): loads the
// module, the last argument, and the .ts files it imports as CommonJS compiled by esbuild (tsx's
// compiler, with the options tsx would use for these plain modules). Outputs are cached by content
// in a per-user directory, so a thread whose sources did not change starts without loading a
// compiler: registering tsx in each thread instead (tsx/cjs/api) cost ~100 ms of module loading.
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');
const { fileURLToPath } = require('node:url');
const { threadId } = require('node:worker_threads');

// esbuild as tsx resolves it: present wherever tsx is (tsx depends on it).
const tsxDir = path.dirname(require.resolve('tsx/package.json'));
const esbuildDir = path.dirname(require.resolve('esbuild/package.json', { paths: [tsxDir] }));
const esbuildVersion = JSON.parse(fs.readFileSync(path.join(esbuildDir, 'package.json'), 'utf8')).version;
let esbuild; // loaded on a cache miss only

/** The cache directory when it is this user's alone (others could plant code in it), else null. */
function privateCacheDir() {
  const user = process.getuid?.() ?? os.userInfo().username;
  const dir = path.join(os.tmpdir(), `sluice-worker-threads-${user}`);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (err.code !== 'EEXIST') return null;
  }
  const st = fs.lstatSync(dir);
  const mine = process.getuid === undefined || st.uid === process.getuid();
  return st.isDirectory() && mine && (st.mode & 0o077) === 0 ? dir : null;
}
const cacheDir = privateCacheDir();

function compile(source, filename) {
  esbuild ??= require(esbuildDir);
  return esbuild.transformSync(source, {
    loader: 'ts',
    format: 'cjs',
    platform: 'node',
    target: `node${process.versions.node}`,
    sourcefile: filename,
    sourcemap: 'inline',
  }).code;
}

function compiled(source, filename) {
  if (!cacheDir) return compile(source, filename);
  const key = createHash('sha256').update(`${esbuildVersion}\0${process.version}\0${filename}\0${source}`);
  const file = path.join(cacheDir, `${key.digest('hex')}.cjs`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    const code = compile(source, filename);
    const tmp = `${file}.${process.pid}-${threadId}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, file); // whole or not at all: threads may compile the same file at once
    return code;
  }
}

Module._extensions['.ts'] = (module, filename) => {
  module._compile(compiled(fs.readFileSync(filename, 'utf8'), filename), filename);
};
require(fileURLToPath(process.argv[process.argv.length - 1]));
