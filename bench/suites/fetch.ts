// `npm run bench -- fetch`: sluice fetch -x against curl | dec | tar, aria2c && dec | tar, and the
// no-network floor (dec local | tar), on the rig's nginx (per-connection rate cap) serving a tar /
// tar.gz / tar.lz4 of /usr. Each pair runs through the rig's `compare` (alternating, medians).
// Flags: --size-mb=N (1000), --runs=N (3), --rate=R (50m), --formats=lz4,gz,tar, --no-floor, --no-rss
// (skips the last step: CPU seconds of sluice and of the floor, and sluice's peak RSS, per format).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from '../types.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KIT =
  process.env.SLUICE_BENCH_KIT ??
  (existsSync(path.join(REPO, 'bench/rig/rig')) ? path.join(REPO, 'bench/rig') : '/work/shared/bench');
const RIG_DIR = process.env.SLUICE_RIG_DIR ?? '/tmp/sluice-rig-fetch';
const SLUICE = `node ${REPO}/bin/sluice.js`;

interface Format {
  ext: string;
  dec: string;
}
const FORMATS: Record<string, Format> = {
  lz4: { ext: 'tar.lz4', dec: 'lz4 -dc' },
  gz: { ext: 'tar.gz', dec: 'pigz -dc' },
  tar: { ext: 'tar', dec: 'cat' },
};

function sh(cmd: string, echo = true): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('bash', ['-c', cmd], {
      env: { ...process.env, SLUICE_RIG_DIR: RIG_DIR },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      if (echo) process.stdout.write(d);
    });
    p.stderr.on('data', (d) => {
      out += d;
      if (echo) process.stderr.write(d);
    });
    p.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

/** `--name=value` (bench/index.ts takes every bare word for a suite name). */
function flag(args: string[], name: string, def: string): string {
  const hit = args.find((a) => a.startsWith(`${name}=`));
  return hit ? hit.slice(name.length + 1) : def;
}

interface Row {
  pair: string;
  candidate: number;
  baseline: number;
  ratio: number;
  target: string;
}

async function compare(
  runs: string,
  candidate: string,
  baseline: string,
): Promise<{ candidate: number; baseline: number; ratio: number } | undefined> {
  const prep = `${KIT}/rig reset && mkdir -p $RIG_DST/out`;
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const r = await sh(`${KIT}/compare --runs ${runs} --prep ${q(prep)} -- ${q(candidate)} -- ${q(baseline)}`);
  const med = (which: string) => Number(new RegExp(`median\\t${which}\\t([\\d.]+)`).exec(r.out)?.[1]);
  const ratio = Number(/ratio\tbaseline\/candidate\t([\d.]+)/.exec(r.out)?.[1]);
  if (r.code !== 0 || !Number.isFinite(ratio)) return undefined;
  return { candidate: med('candidate'), baseline: med('baseline'), ratio };
}

export const fetchSuite: BenchSuite = {
  name: 'fetch',
  description: 'sluice fetch -x vs curl|tar, aria2c&&tar and the local floor (nginx rig, rate-limited)',
  async unavailable() {
    if (!existsSync(path.join(KIT, 'rig'))) return `the bench kit is not at ${KIT} (set SLUICE_BENCH_KIT)`;
    for (const tool of ['curl', 'aria2c', 'lz4', 'pigz', 'tar', 'nginx']) {
      const r = await sh(`command -v ${tool} || test -x /usr/sbin/${tool}`, false);
      if (r.code !== 0) return `${tool} is not installed (the rig installs it with apt-get as root)`;
    }
    return undefined;
  },
  async run(args) {
    const size = flag(args, '--size-mb', '1000');
    const runs = flag(args, '--runs', '3');
    const rate = flag(args, '--rate', '50m');
    const formats = flag(args, '--formats', 'lz4,gz,tar').split(',');
    const rows: Row[] = [];
    const up = async (r: string) => {
      const res = await sh(`${KIT}/rig http up --size-mb ${size} --rate ${r}`);
      if (res.code !== 0) throw new Error(`rig http up failed:\n${res.out}`);
    };
    const add = (pair: string, target: string, r: Awaited<ReturnType<typeof compare>>) => {
      if (r) rows.push({ pair, target, ...r });
      else console.log(`# ${pair}: a command failed (see above)`);
    };
    await up(rate);
    for (const f of formats) {
      const fm = FORMATS[f];
      if (!fm) throw new Error(`unknown format ${f} (lz4, gz, tar)`);
      const ours = `${SLUICE} fetch $RIG_HTTP/usr.${fm.ext} -x -C $RIG_DST/out -q`;
      const untar = fm.dec === 'cat' ? 'tar -x -C $RIG_DST/out' : `${fm.dec} | tar -x -C $RIG_DST/out`;
      add(
        `${f}, ${rate}/conn: vs curl | ${fm.dec} | tar x`,
        f === 'lz4' ? '>= 3x' : 'report',
        await compare(runs, ours, `curl -sSf $RIG_HTTP/usr.${fm.ext} | ${untar}`),
      );
      const aria = `aria2c -q -x16 -s16 -k8M --file-allocation=none --allow-overwrite=true --auto-file-renaming=false --summary-interval=0 -d $RIG_DST -o f $RIG_HTTP/usr.${fm.ext}`;
      const local =
        fm.dec === 'cat'
          ? 'tar -x -f $RIG_DST/f -C $RIG_DST/out'
          : `${fm.dec} $RIG_DST/f | tar -x -C $RIG_DST/out`;
      add(
        `${f}, ${rate}/conn: vs aria2c -x16 && ${fm.dec} | tar x`,
        f === 'lz4' ? '>= 2x' : 'report',
        await compare(runs, ours, `${aria} && ${local}`),
      );
    }
    if (!args.includes('--no-floor')) {
      await up('0');
      for (const f of formats) {
        const fm = FORMATS[f]!;
        const ours = `${SLUICE} fetch $RIG_HTTP/usr.${fm.ext} -x -C $RIG_DST/out -q`;
        const floor =
          fm.dec === 'cat'
            ? `tar -x -f $RIG_DIR/www/usr.${fm.ext} -C $RIG_DST/out`
            : `${fm.dec} $RIG_DIR/www/usr.${fm.ext} | tar -x -C $RIG_DST/out`;
        add(
          `${f}, no rate limit: vs ${fm.dec} local | tar x (floor)`,
          f === 'lz4' ? '>= 1/1.3 = 0.77' : 'report',
          await compare(runs, ours, floor),
        );
      }
    }
    // CPU (user+sys, all threads and child processes) and peak RSS of one run each: on a shared
    // machine these hold up under load where wall-clock times do not.
    const resources: string[] = [];
    if (!args.includes('--no-rss')) {
      const timed = async (cmd: string) => {
        const q = cmd.replace(/'/g, `'\\''`);
        const r = await sh(
          `eval "$(${KIT}/rig env)"; ${KIT}/rig reset >/dev/null && mkdir -p $RIG_DST/out && /usr/bin/time -f 'res %U %S %M' bash -c '${q}'`,
          false,
        );
        const m = /res ([\d.]+) ([\d.]+) (\d+)/.exec(r.out);
        return m
          ? {
              cpu: Number(m[1]) + Number(m[2]),
              user: Number(m[1]),
              sys: Number(m[2]),
              mib: Number(m[3]) / 1024,
            }
          : undefined;
      };
      for (const f of formats) {
        const fm = FORMATS[f]!;
        const ours = await timed(
          `${SLUICE} fetch $RIG_HTTP/usr.${fm.ext} -x -C $RIG_DST/out -q --max-memory 256M`,
        );
        const floor = await timed(
          fm.dec === 'cat'
            ? `tar -x -f $RIG_DIR/www/usr.${fm.ext} -C $RIG_DST/out`
            : `${fm.dec} $RIG_DIR/www/usr.${fm.ext} | tar -x -C $RIG_DST/out`,
        );
        if (!ours || !floor) {
          resources.push(`| ${f} | a command failed | | | |`);
          continue;
        }
        resources.push(
          `| ${f} | ${ours.cpu.toFixed(2)} (${ours.user.toFixed(2)} + ${ours.sys.toFixed(2)}) | ${floor.cpu.toFixed(2)} (${floor.user.toFixed(2)} + ${floor.sys.toFixed(2)}) | ${(ours.cpu / floor.cpu).toFixed(2)} | ${ours.mib.toFixed(0)} MiB |`,
        );
      }
    }
    console.log(`\n## sluice fetch: ${size} MiB archive, runs ${runs} (medians, seconds)\n`);
    console.log('| comparison | sluice | baseline | ratio (baseline/sluice) | target |');
    console.log('|---|---|---|---|---|');
    for (const r of rows)
      console.log(
        `| ${r.pair.replace(/\|/g, '\\|')} | ${r.candidate.toFixed(2)} | ${r.baseline.toFixed(2)} | ${r.ratio.toFixed(2)} | ${r.target} |`,
      );
    if (resources.length) {
      console.log(
        '\n## CPU seconds (user + sys) of one run, and sluice peak RSS (--max-memory 256M: limit 406 MiB)\n',
      );
      console.log('| format | sluice | floor (dec local \\| tar x) | sluice/floor | sluice peak RSS |');
      console.log('|---|---|---|---|---|');
      for (const line of resources) console.log(line);
    }
  },
};
