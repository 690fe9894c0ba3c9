// `npm run bench -- cache [--large=64] [--large-mb=16] [--small=2000] [--small-kb=100] [--rate=20m]
// [--readers=4] [--one-mb=256] [--ranges=400] [--s3-objects=8] [--no-nginx] [--no-s3] [--no-http]`:
// `sluice cache serve` against reading the origin directly and against nginx `proxy_cache` with
// `slice` and `proxy_cache_lock` (Nezha's mechanism, bench/rig/nginx.ts), in the same run, on the
// rig's rate-limited Range server (a per-connection cap, as an object store has) and, for S3, the
// delayed s3rver. Every reader is the same Node fetch loop, so the figures compare the servers.
// Origin bytes come from the origin's own counter (GET /-/sent). Figures, not assertions.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  type Daemon,
  onInterrupt,
  REPO_ROOT,
  rigScript,
  startDaemon,
  stopAllDaemons,
} from '../rig/daemons.ts';
import { type NginxCache, startNginxCache } from '../rig/nginx.ts';
import { describeRun } from '../rig/report.ts';
import { BUCKET, type DelayedS3, preload, startDelayedS3 } from '../rig/s3.ts';
import { which } from '../rig/tools.ts';
import { openRigDir } from '../rig/workdir.ts';
import type { BenchSuite } from '../types.ts';
import { type Pass, percentile, readRanges, readUrls, retried } from './cache-readers.ts';

const MiB = 1024 * 1024;
const BLOCK = 8 * MiB;

function num(args: string[], name: string, def: number): number {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  const n = hit ? Number(hit.slice(name.length + 3)) : def;
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

/** Files of pseudo-random bytes (incompressible), made once per size and kept in the rig dir. */
function makeFiles(dir: string, prefix: string, count: number, bytes: number): string[] {
  const stamp = join(dir, `.${prefix}-${count}x${bytes}`);
  const names = Array.from({ length: count }, (_, i) => `${prefix}/${prefix}${String(i).padStart(5, '0')}`);
  if (existsSync(stamp)) return names;
  mkdirSync(join(dir, prefix), { recursive: true });
  const buf = Buffer.alloc(bytes);
  for (const n of names) writeFileSync(join(dir, n), randomFillSync(buf));
  writeFileSync(stamp, '');
  return names;
}

/** `sluice cache serve` on a fresh directory, as a user starts it (the binary, not npx). */
async function startSluiceCache(
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  rmSync(dir, { recursive: true, force: true });
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin/sluice.js'),
      'cache',
      'serve',
      '--dir',
      dir,
      '--max-size',
      '8G',
      '--block-size',
      '8M',
      '-q',
    ],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    child.once('exit', (code) => reject(new Error(`sluice cache serve exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const sent = async (origin: string) =>
  ((await (await fetch(`${origin}/-/sent`)).json()) as { bytes: number }).bytes;

/** User + system CPU seconds a process has used so far (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

const loadAvg = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const mbps = (p: Pass) => (p.bytes / MiB / p.seconds).toFixed(0);
const secs = (p: Pass) => p.seconds.toFixed(2);

interface Target {
  name: string;
  /** The URL of an origin path through this target. */
  url(path: string): string;
  stop(): Promise<void>;
}

export const cacheSuite: BenchSuite = {
  name: 'cache',
  description:
    'sluice cache serve vs direct reads and nginx proxy_cache (slice + lock): cold, warm, ranges, herds',
  async run(args) {
    const o = {
      large: num(args, 'large', 64),
      largeMb: num(args, 'large-mb', 16),
      small: num(args, 'small', 2000),
      smallKb: num(args, 'small-kb', 100),
      readers: num(args, 'readers', 4),
      oneMb: num(args, 'one-mb', 256),
      ranges: num(args, 'ranges', 400),
      s3Objects: num(args, 's3-objects', 8),
      s3Rounds: num(args, 's3-rounds', 3),
    };
    const rate = args.find((a) => a.startsWith('--rate='))?.slice(7) ?? '20m';
    const nginxOn = !args.includes('--no-nginx') && Boolean(which('nginx'));
    const rig = openRigDir();
    const offInterrupt = onInterrupt(() => rig.remove());
    const targets: Target[] = [];
    let s3: DelayedS3 | undefined;
    try {
      console.log(describeRun());
      console.log(
        `# cache: ${o.large} x ${o.largeMb} MiB + ${o.small} x ${o.smallKb} KiB from an origin capped at ${rate}/s per connection; ${o.readers} readers; blocks/slices of 8 MiB`,
      );
      if (!nginxOn)
        console.log('# nginx not found (apt install nginx-light) or --no-nginx: its column is empty');
      const rows: string[][] = [];
      const row = (what: string, cells: Record<string, string>, target: string) =>
        rows.push([what, cells.direct ?? '', cells.sluice ?? '', cells.nginx ?? '', target]);
      if (!args.includes('--no-http')) {
        const www = join(rig.root, 'cache-www');
        const large = makeFiles(www, 'large', o.large, o.largeMb * MiB);
        const small = makeFiles(www, 'small', o.small, o.smallKb * 1024);
        const part = makeFiles(www, 'part', 16, o.largeMb * MiB);
        const [one] = makeFiles(www, 'one', 1, o.oneMb * MiB);
        const [node, rargs] = rigScript('http-server.ts', ['--root', www, '--rate', rate]);
        const server: Daemon = await startDaemon({
          name: 'origin',
          command: node,
          args: rargs,
          logFile: join(rig.root, 'cache-origin.log'),
          printsPort: true,
        });
        const origin = `http://127.0.0.1:${server.port}`;
        const host = `127.0.0.1:${server.port}`;

        const sluice = await startSluiceCache(join(rig.root, 'sluice-cache'), process.env);
        targets.push({ name: 'sluice', url: (p) => `${sluice.url}/http/${host}/${p}`, stop: sluice.stop });
        let nginx: NginxCache | undefined;
        if (nginxOn) {
          const prefix = join(rig.root, 'nginx');
          rmSync(prefix, { recursive: true, force: true });
          nginx = await startNginxCache({ prefix, origin: host, maxSize: '8g', sliceBytes: BLOCK });
          const n = nginx;
          targets.push({ name: 'nginx', url: (p) => `${n.url}/${p}`, stop: n.stop });
          console.log(`# baseline: ${nginx.version}`);
        }
        const direct: Target = { name: 'direct', url: (p) => `${origin}/${p}`, stop: async () => {} };
        const originDelta = async (f: () => Promise<Pass>) => {
          const before = await sent(origin);
          const pass = await f();
          return { pass, originBytes: (await sent(origin)) - before };
        };

        // Large objects: direct, cold and warm through each cache.
        const d = await readUrls(large.map(direct.url), o.readers);
        const cells: Record<string, Record<string, string>> = { cold: {}, warm: {}, herd: {}, partial: {} };
        cells.cold!.direct = `${secs(d)} s (${mbps(d)} MiB/s)`;
        const warmLarge: Record<string, Pass> = {};
        for (const t of targets) {
          const cold = await originDelta(() => readUrls(large.map(t.url), o.readers));
          cells.cold![t.name] = `${secs(cold.pass)} s, ${(cold.pass.seconds / d.seconds).toFixed(2)}× direct`;
          const warm = await originDelta(() => readUrls(large.map(t.url), o.readers));
          warmLarge[t.name] = warm.pass;
          cells.warm![t.name] =
            `${secs(warm.pass)} s (${mbps(warm.pass)} MiB/s), ${(d.seconds / warm.pass.seconds).toFixed(1)}× direct, origin ${(warm.originBytes / MiB).toFixed(0)} MiB`;
        }
        row(`cold read, ${o.large} × ${o.largeMb} MiB`, cells.cold!, 'sluice ≤ 1.1× direct');
        row(`warm read, ${o.large} × ${o.largeMb} MiB`, cells.warm!, 'sluice ≥ 10× direct; ≥ 0.6× nginx');
        if (warmLarge.sluice && warmLarge.nginx)
          row(
            'warm, sluice throughput / nginx',
            { sluice: (warmLarge.nginx.seconds / warmLarge.sluice.seconds).toFixed(2) },
            '≥ 0.6',
          );

        // Partly cached objects: the first half of each is read, then the whole objects. Origin
        // bytes count both passes: a cache may fetch ahead while the first halves are read.
        for (const t of targets) {
          const before = await sent(origin);
          await readRanges(
            part.map((p) => ({ url: t.url(p), start: 0, length: (o.largeMb * MiB) / 2 })),
            o.readers,
          );
          const whole = await readUrls(part.map(t.url), o.readers);
          const originMiB = ((await sent(origin)) - before) / MiB;
          cells.partial![t.name] = `${secs(whole)} s, origin ${originMiB.toFixed(0)} MiB over both passes`;
        }
        row(
          `16 × ${o.largeMb} MiB: first halves read, then whole objects (${o.largeMb * 16} MiB in all)`,
          cells.partial!,
          'ahead of nginx; origin ≈ the objects once',
        );

        // A herd: 32 readers of one cold object at once.
        for (const t of targets) {
          const herd = await originDelta(() => readUrls(Array(32).fill(t.url(one!)), 32));
          cells.herd![t.name] =
            `${secs(herd.pass)} s, origin ${(herd.originBytes / (o.oneMb * MiB)).toFixed(2)}× the object`;
        }
        row(
          `32 concurrent cold readers of one ${o.oneMb} MiB object`,
          cells.herd!,
          'origin ≤ 1.05× the object',
        );

        // Many small objects: warm objects/s (after a cold pass).
        const smallCells: Record<string, string> = {};
        const ds = await readUrls(small.map(direct.url), 32);
        smallCells.direct = `${(small.length / ds.seconds).toFixed(0)} obj/s`;
        for (const t of targets) {
          await readUrls(small.map(t.url), 32);
          const w = await readUrls(small.map(t.url), 32);
          smallCells[t.name] = `${(small.length / w.seconds).toFixed(0)} obj/s`;
        }
        row(
          `warm small objects, ${o.small} × ${o.smallKb} KiB, 32 readers`,
          smallCells,
          'objects/s vs nginx',
        );

        // Random 1 MiB ranges over the warm large objects.
        const rangeCells: Record<string, string> = {};
        const picks = Array.from({ length: o.ranges }, (_, i) => {
          const start = ((i * 7919 * MiB) % (o.largeMb * MiB - MiB)) + ((i * 4099) % 4096);
          return { path: large[(i * 31) % large.length]!, start, length: MiB };
        });
        for (const t of [direct, ...targets]) {
          const r = await readRanges(
            picks.map((p) => ({ url: t.url(p.path), start: p.start, length: p.length })),
            4,
          );
          rangeCells[t.name] =
            `p50 ${percentile(r.latencies, 50).toFixed(1)} ms, p99 ${percentile(r.latencies, 99).toFixed(1)} ms`;
        }
        row(`random 1 MiB ranges (${o.ranges}, 4 readers), warm`, rangeCells, 'p50/p99');

        for (const t of targets.splice(0)) await t.stop();
        await server.stop();
      }

      // S3 (the delayed s3rver): direct GETs against reads through the cache, cold then warm, and
      // through a pure pass-through proxy (one more Node hop, nothing stored): the floor a cache
      // in its own process cannot beat on this machine. Rounds alternate the order; each round
      // starts a fresh cache (a cold read is once per cache); medians of the ratios are reported.
      if (!args.includes('--no-s3')) {
        s3 = await startDelayedS3(rig.root, 20);
        const s3dir = join(rig.root, 'cache-s3-data');
        rmSync(s3dir, { recursive: true, force: true });
        const keys = makeFiles(s3dir, 'obj', o.s3Objects, o.largeMb * MiB);
        await preload(s3, s3dir, 'cache');
        const [pnode, pargs] = rigScript('pass-proxy.ts', ['--target', new URL(s3.endpoint).host]);
        const passProxy = await startDaemon({
          name: 'pass-proxy',
          command: pnode,
          args: pargs,
          logFile: join(rig.root, 'pass-proxy.log'),
          printsPort: true,
        });
        const urls = (base: string) => keys.map((k) => `${base}/${BUCKET}/cache/${k}`);
        const passUrl = `http://127.0.0.1:${passProxy.port}`;
        // s3rver reads its files once before anything is timed (page cache, JIT).
        await readUrls(urls(s3.endpoint), o.readers);
        const r: Record<'direct' | 'pass' | 'cold' | 'warm' | 'passCpu' | 'coldCpu', number>[] = [];
        for (let round = 0; round < o.s3Rounds; round++) {
          const c = await startSluiceCache(join(rig.root, 'sluice-cache-s3'), { ...process.env, ...s3.env });
          const t: Target = { name: 'sluice', url: () => '', stop: c.stop };
          targets.push(t);
          const got: Record<string, number> = {};
          const order = round % 2 ? ['cold', 'pass', 'direct'] : ['direct', 'pass', 'cold'];
          for (const what of order) {
            const base = what === 'direct' ? s3.endpoint : what === 'pass' ? passUrl : c.url;
            const pid = what === 'pass' ? passProxy.pid : what === 'cold' ? c.pid : 0;
            const cpu0 = cpuSeconds(pid);
            got[what] = (await readUrls(urls(base), o.readers)).seconds;
            got[`${what}Cpu`] = cpuSeconds(pid) - cpu0;
          }
          got.warm = (await readUrls(urls(c.url), o.readers)).seconds;
          await c.stop();
          targets.splice(targets.indexOf(t), 1);
          r.push(got as (typeof r)[number]);
          console.log(
            `# S3 round ${round + 1}: direct ${got.direct!.toFixed(2)} s, pass-through ${got.pass!.toFixed(2)} s (proxy CPU ${got.passCpu!.toFixed(2)} s), sluice cold ${got.cold!.toFixed(2)} s (cache CPU ${got.coldCpu!.toFixed(2)} s), warm ${got.warm!.toFixed(2)} s; load ${loadAvg()}`,
          );
        }
        await passProxy.stop();
        const med = (f: (x: (typeof r)[number]) => number) => median(r.map(f));
        const what = `S3, ${o.s3Objects} × ${o.largeMb} MiB, 20 ms delay, not rate-limited (median of ${o.s3Rounds} rounds)`;
        row(
          `${what}: cold`,
          {
            direct: `${med((x) => x.direct).toFixed(2)} s (${((o.s3Objects * o.largeMb) / med((x) => x.direct)).toFixed(0)} MiB/s)`,
            sluice: `${med((x) => x.cold).toFixed(2)} s, **${med((x) => x.cold / x.direct).toFixed(2)}×** direct, ${med((x) => x.cold / x.pass).toFixed(2)}× pass-through`,
          },
          'sluice ≤ 1.1× direct',
        );
        row(
          `${what}: a pure pass-through proxy (floor: one more Node hop, nothing stored)`,
          {
            sluice: `${med((x) => x.pass).toFixed(2)} s, **${med((x) => x.pass / x.direct).toFixed(2)}×** direct`,
          },
          'the floor of any cache in its own process',
        );
        row(
          `${what}: warm`,
          {
            sluice: `${med((x) => x.warm).toFixed(2)} s, ${med((x) => x.direct / x.warm).toFixed(1)}× faster than direct`,
          },
          '(≥ 10× is for the rate-limited origin)',
        );
      }

      console.log(
        '\n| scenario | direct | sluice cache | nginx proxy_cache | target |\n|---|---|---|---|---|',
      );
      for (const r of rows) console.log(`| ${r.join(' | ')} |`);
      if (retried.count)
        console.log(`# ${retried.count} reader request(s) failed before any answer and were sent again`);
      console.log(`\n# rig: ${rig.root}; data kept only with SLUICE_BENCH_DIR`);
    } finally {
      for (const t of targets) await t.stop().catch(() => undefined);
      await s3?.down();
      await stopAllDaemons();
      offInterrupt();
      rig.remove();
    }
  },
};
