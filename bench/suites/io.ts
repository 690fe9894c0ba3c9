// `npm run bench -- io [--files=2000] [--runs=1] [--only=WHAT] [--no-s3] [--no-local] [--big]`: sluice cp / zip /
// rm against cp -r, xargs -P64 cp, rclone, zip -0 -r, rm -rf and the AWS CLI, on the latency rig
// (/work/shared/bench or $SLUICE_BENCH_KIT), each pair timed alternately in the same run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from '../types.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const KIT = process.env.SLUICE_BENCH_KIT ?? '/work/shared/bench';
const SLUICE = `node ${REPO}/bin/sluice.js`;

interface Pair {
  what: string;
  candidate: string;
  baseline: string;
  prep: string;
  target?: string;
}

/** `--name=value` (bench/index.ts passes only dashed arguments to suites). */
function flag(args: string[], name: string, dflt: string): string {
  const a = args.find((x) => x.startsWith(`${name}=`));
  return a ? a.slice(name.length + 1) : dflt;
}

function sh(cmd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync('bash', ['-c', cmd], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function pairs(files: number): Pair[] {
  const reset = `${KIT}/rig reset`;
  // Uploads start from an empty prefix each time (rclone would otherwise skip what is there).
  const upReset = `${reset} && rm -rf $RIG_DIR/s3/data/rig/up-*`;
  const localRm = 'rm -rf $RIG_DIR/local-rm && cp -r $RIG_DIR/src/small $RIG_DIR/local-rm';
  const xargs =
    'cd $RIG_VOL/small && find . -type f > $RIG_DIR/run/list && mkdir -p $RIG_DST/small && ' +
    "(cd $RIG_DST/small && sed 's|/[^/]*$||' $RIG_DIR/run/list | sort -u | xargs mkdir -p) && " +
    "tr '\\n' '\\0' < $RIG_DIR/run/list | xargs -0 -P64 -n8 cp --parents -t $RIG_DST/small";
  const aws =
    'env -u AWS_CA_BUNDLE AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null ' +
    '/usr/bin/aws --endpoint-url $RIG_S3 s3 cp --recursive --only-show-errors --no-progress';
  const rclone =
    'env -u AWS_CA_BUNDLE rclone --config $RIG_DIR/s3/rclone.conf copy --transfers 64 --checkers 64';
  return [
    {
      what: `cp volume->local (${files} files)`,
      target: '>= 60x',
      candidate: `${SLUICE} cp $RIG_VOL/small $RIG_DST/small`,
      baseline: 'cp -r $RIG_VOL/small $RIG_DST/',
      prep: reset,
    },
    {
      what: 'cp volume->local',
      target: '>= 1x',
      candidate: `${SLUICE} cp $RIG_VOL/small $RIG_DST/small`,
      baseline: xargs,
      prep: reset,
    },
    {
      what: 'cp volume->local',
      target: '>= 1x',
      candidate: `${SLUICE} cp $RIG_VOL/small $RIG_DST/small`,
      baseline: 'rclone --config /dev/null copy $RIG_VOL/small $RIG_DST/small --transfers 64 --checkers 64',
      prep: reset,
    },
    {
      what: 'zip from volume',
      target: '>= 60x',
      candidate: `${SLUICE} zip $RIG_DST/out.zip $RIG_VOL/small`,
      baseline: 'cd $RIG_VOL && zip -0 -r -q $RIG_DST/out.zip small',
      prep: reset,
    },
    {
      what: 'rm on volume',
      target: '>= 10x',
      candidate: `${SLUICE} rm -r $RIG_VOL/rmtest`,
      baseline: 'rm -rf $RIG_VOL/rmtest',
      prep: reset,
    },
    {
      what: 'cp local disk->tmpfs',
      target: '>= 0.83x',
      candidate: `${SLUICE} cp $RIG_DIR/src/small $RIG_DST/small`,
      baseline: 'cp -r $RIG_DIR/src/small $RIG_DST/',
      prep: reset,
    },
    {
      what: 'zip local disk',
      target: '>= 0.83x',
      candidate: `${SLUICE} zip $RIG_DST/out.zip $RIG_DIR/src/small`,
      baseline: 'cd $RIG_DIR/src && zip -0 -r -q $RIG_DST/out.zip small',
      prep: reset,
    },
    {
      what: 'rm local disk',
      target: '>= 0.83x',
      candidate: `${SLUICE} rm -r $RIG_DIR/local-rm`,
      baseline: 'rm -rf $RIG_DIR/local-rm',
      prep: localRm,
    },
    {
      what: 's3->local',
      target: '>= 1x',
      candidate: `${SLUICE} cp s3://rig/small $RIG_DST/small`,
      baseline: `${rclone} rigs3:rig/small $RIG_DST/small`,
      prep: reset,
    },
    {
      what: 's3->local',
      target: '>= 1x',
      candidate: `${SLUICE} cp s3://rig/small $RIG_DST/small`,
      baseline: `${aws} s3://rig/small $RIG_DST/small`,
      prep: reset,
    },
    {
      what: 'local->s3',
      target: '>= 1x',
      candidate: `${SLUICE} cp $RIG_DIR/src/small s3://rig/up-sluice`,
      baseline: `${rclone} $RIG_DIR/src/small rigs3:rig/up-rclone`,
      prep: upReset,
    },
    {
      what: 'local->s3',
      target: '>= 1x',
      candidate: `${SLUICE} cp $RIG_DIR/src/small s3://rig/up-sluice`,
      baseline: `${aws} $RIG_DIR/src/small s3://rig/up-aws`,
      prep: upReset,
    },
  ];
}

export const ioSuite: BenchSuite = {
  name: 'io',
  description: 'sluice cp/zip/rm vs cp -r, xargs cp, rclone, zip, rm -rf, aws s3 cp on the latency rig',
  async unavailable() {
    if (process.getuid?.() !== 0) return 'needs root (FUSE mount)';
    if (!existsSync('/dev/fuse')) return 'needs /dev/fuse';
    if (!existsSync(`${KIT}/rig`)) return `no rig kit at ${KIT} (set SLUICE_BENCH_KIT)`;
    return undefined;
  },
  async run(args) {
    const files = flag(args, '--files', '2000');
    const runs = flag(args, '--runs', '1');
    const only = flag(args, '--only', '');
    const env = { ...process.env, SLUICE_RIG_DIR: process.env.SLUICE_RIG_DIR ?? '/tmp/sluice-rig-io' };
    console.log(`# rig dir ${env.SLUICE_RIG_DIR}; ${files} files; ${runs} run(s) per pair`);
    sh(`${KIT}/rig vol up --files ${files}${args.includes('--big') ? ' --big' : ''} >&2`, env);
    const withS3 = !args.includes('--no-s3');
    // `rig s3 up` checks a paged listing right after (re)starting s3rver; retry a transient failure.
    if (withS3) sh(`${KIT}/rig s3 up >&2 || ${KIT}/rig s3 up >&2`, env);
    const rows: string[] = [];
    const all = pairs(Number(files));
    if (args.includes('--big'))
      all.push({
        what: 'cp 2GiB file volume->local',
        target: '>= 1x',
        candidate: `${SLUICE} cp --max-memory 256M $RIG_VOL/big/big.bin $RIG_DST/`,
        baseline: 'cp $RIG_VOL/big/big.bin $RIG_DST/',
        prep: `${KIT}/rig reset`,
      });
    for (const p of all) {
      if (!withS3 && p.what.includes('s3')) continue;
      if (args.includes('--no-local') && p.what.includes('local disk')) continue;
      if (only && !only.split(',').some((o) => p.what.includes(o))) continue;
      const r = spawnSync(
        `${KIT}/compare`,
        ['--runs', runs, '--prep', p.prep, '--', p.candidate, '--', p.baseline],
        { env, encoding: 'utf8', cwd: '/tmp' },
      );
      process.stdout.write(r.stdout);
      if (r.status !== 0) {
        process.stdout.write(r.stderr);
        rows.push(`${p.what}\t${p.baseline.slice(0, 60)}\tFAILED`);
        continue;
      }
      const med = (w: string) => new RegExp(`median\\t${w}\\t([\\d.]+)`).exec(r.stdout)?.[1];
      const ratio = /ratio\tbaseline\/candidate\t([\d.]+)/.exec(r.stdout)?.[1] ?? 'n/a';
      rows.push(
        `${p.what}\t${p.baseline.replace(/\$RIG_\w+\/?/g, '').slice(0, 70)}\t${med('candidate')}\t${med('baseline')}\t${ratio}x\t(target ${p.target})`,
      );
    }
    if (args.includes('--big')) {
      // Peak RSS of one 2 GiB file copied from the volume, against --max-memory.
      sh(`${KIT}/rig reset >/dev/null`, env);
      const out = sh(
        `eval "$(${KIT}/rig env)"; /usr/bin/time -f 'peak_rss_kb=%M seconds=%e' ${SLUICE} cp --max-memory 256M $RIG_VOL/big/big.bin $RIG_DST/ 2>&1 | tail -1`,
        env,
      );
      rows.push(`cp 2 GiB file, --max-memory 256M\t${out.trim()}\t(target: RSS < 256+150 MB)`);
    }
    console.log('\n# summary: what\tbaseline\tsluice s\tbaseline s\tratio baseline/sluice');
    for (const r of rows) console.log(r);
  },
};
