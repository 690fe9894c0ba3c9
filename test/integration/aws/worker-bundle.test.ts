// The worker bundle (scripts/bundle-worker.mjs, what the worker image runs) as the emulated stack's
// worker process: built into a directory outside the repository, where no node_modules but the
// bundle's own can be reached (tsx cannot even be resolved), and driven through the AWS path:
// Python and Node.js algorithms, the built-in host with its S3 stores, an lz4 fetch (worker
// threads, the native lz4 package) and rm -r. The processes it started never ran tsx.
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WORKER_BUNDLE_ENTRY } from '../../../shared/adapters/aws/config.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { runCli } from '../../helpers/cli.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let dir: string;
let bundle: string;
let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;

/** pid -> argv of every process whose command line names `path`. */
function processesUsing(path: string): Map<number, string[]> {
  const found = new Map<number, string[]>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.some((a) => a.includes(path))) found.set(Number(pid), argv);
    } catch {
      /* gone */
    }
  }
  return found;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-worker-bundle-'));
  bundle = join(dir, 'bundle');
  execFileSync(process.execPath, [join(ROOT, 'scripts/bundle-worker.mjs'), bundle], { stdio: 'pipe' });
  bed = await startAwsTestBed('bundle');
  const env: NodeJS.ProcessEnv = { ...process.env, ...bed.env, SLUICE_SHARED_VOLUME: join(dir, 'volume') };
  delete env.NODE_OPTIONS;
  stack = await startLocalAwsStack({
    env,
    http: { port: 0, host: '127.0.0.1' },
    slots: 2,
    workerProcess: true,
    workerBundle: bundle,
    s3PollMs: 0,
    onError: () => {},
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await bed?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('holds only JavaScript, its assets and the native packages, and cannot reach tsx', () => {
  expect(existsSync(join(bundle, WORKER_BUNDLE_ENTRY))).toBe(true);
  for (const asset of ['python_host.py', 'node_host.mjs', 'builtin_host.mjs'])
    expect(existsSync(join(bundle, 'shared/runner', asset)), asset).toBe(true);
  expect(readdirSync(join(bundle, 'node_modules'))).toEqual(expect.arrayContaining(['lz4-napi']));
  const files = execFileSync('find', [bundle, '-type', 'f', '-name', '*.ts'], { encoding: 'utf8' });
  expect(files).toBe('');
  const lookups = createRequire(join(bundle, 'x.js')).resolve.paths('tsx') ?? [];
  expect(lookups.filter((d) => existsSync(join(d, 'tsx')))).toEqual([]);
});

it('runs Python and Node.js algorithms (examples/numbers) through the AWS path', async () => {
  const r = await runCli([
    'run',
    join(ROOT, 'examples/numbers/pipeline.yml'),
    '--endpoint',
    stack.url as string,
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual([{ nodeName: 'Reduce', algorithmName: 'reduce', result: 30 }]);
}, 120_000);

it('runs the built-ins: cp to S3, a tar.lz4 fetch on worker threads, rm -r', async () => {
  const src = join(dir, 'src');
  for (let i = 0; i < 200; i++) {
    mkdirSync(join(src, `d${i % 10}`), { recursive: true });
    writeFileSync(join(src, `d${i % 10}`, `f${i}.txt`), `file ${i}\n`);
  }
  execFileSync('sh', ['-c', `tar -cf - -C "${src}" . | lz4 -q > "${join(dir, 'src.tar.lz4')}"`]);
  const doomed = join(dir, 'doomed');
  mkdirSync(join(doomed, 'a/b'), { recursive: true });
  writeFileSync(join(doomed, 'a/b/c.txt'), 'c');
  const bucket = bed.env.SLUICE_BLOB_BUCKET as string;
  const pipeline = {
    name: 'bundle-io',
    nodes: [
      { nodeName: 'Up', algorithmName: 'cp', input: [{ src, dst: `s3://${bucket}/copied/src` }] },
      {
        nodeName: 'Fetch',
        algorithmName: 'fetch',
        input: [{ url: join(dir, 'src.tar.lz4'), dest: join(dir, 'unpacked') }],
      },
      { nodeName: 'Rm', algorithmName: 'rm', input: [{ src: doomed }] },
    ],
  };
  writeFileSync(join(dir, 'io.json'), JSON.stringify(pipeline));
  const r = await runCli(['run', join(dir, 'io.json'), '--endpoint', stack.url as string], { env: bed.env });
  expect(r.code, r.stderr).toBe(0);
  const results = JSON.parse(r.stdout) as { nodeName: string; result: { files?: number } }[];
  expect(results.find((x) => x.nodeName === 'Up')?.result.files).toBe(200);
  expect(readFileSync(join(dir, 'unpacked/d7/f117.txt'), 'utf8')).toBe('file 117\n');
  expect(existsSync(doomed)).toBe(false);
}, 120_000);

it('the worker and the hosts it started run the bundle with no loader or preload', () => {
  const procs = processesUsing(bundle);
  const worker = [...procs.values()].find((argv) => argv.at(-1) === join(bundle, WORKER_BUNDLE_ENTRY));
  expect(worker).toEqual([process.execPath, join(bundle, WORKER_BUNDLE_ENTRY)]);
  const hosts = [...procs.values()].filter((argv) => argv.some((a) => a.includes('_host.')));
  expect(hosts.length).toBeGreaterThan(0);
  for (const argv of procs.values()) {
    expect(argv.join(' ')).not.toMatch(/tsx|--import|--loader|--require/);
  }
  for (const pid of procs.keys()) {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ.filter((v) => v.startsWith('NODE_OPTIONS='))).toEqual([]);
  }
});

it('ships the C helpers compiled (rm-tree, process-starter), and the CLI the pool starts for `sluice cache serve`', async () => {
  const helpers = readdirSync(join(bundle, 'shared/io/native/helpers')).sort();
  expect(helpers).toEqual([
    expect.stringMatching(/^process-starter-[0-9a-f]{16}$/),
    expect.stringMatching(/^rm-tree-[0-9a-f]{16}$/),
  ]);
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'x/y'), { recursive: true });
  writeFileSync(join(tree, 'x/y/z'), 'z');
  execFileSync(join(bundle, 'shared/io/native/helpers', helpers[1] as string), [tree]);
  expect(existsSync(tree)).toBe(false);

  const cache = spawn(
    process.execPath,
    [join(bundle, 'bin/sluice.js'), 'cache', 'serve', '--dir', join(dir, 'cache'), '--port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const first = await new Promise<string>((resolve, reject) => {
      let out = '';
      cache.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0] as string);
      });
      cache.once('exit', (code) => reject(new Error(`cache serve exited with ${code}`)));
    });
    expect(first).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
  } finally {
    cache.kill('SIGTERM');
  }
}, 60_000);
