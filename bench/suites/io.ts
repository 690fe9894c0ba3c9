// `npm run bench -- io [--files=1000] [--kib=100] [--dirs=20] [--ms=20] [--runs=3] [--volume-runs=1]
// [--only=WHAT,...] [--no-volume] [--no-local] [--no-s3] [--big[=MiB]] [--rm-files=100000]`: sluice cp / zip / rm
// against cp -r, xargs -P64 cp, rclone, zip -0 -r, rm -rf and the AWS CLI, each pair timed
// alternately in the same run, on the rig in bench/rig/: a latency FUSE volume (root and FUSE
// only; otherwise those rows are skipped with the reason), the local disk, and s3rver behind a
// delaying proxy. Tools that are not installed are reported as skipped.
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { comparePair } from '../rig/compare.ts';
import { onInterrupt, REPO_ROOT, stopAllDaemons } from '../rig/daemons.ts';
import { makeBigFile, makeSmallFiles } from '../rig/data.ts';
import { describeRun, type SummaryRow, summaryTable } from '../rig/report.ts';
import { BUCKET, type DelayedS3, preload, startDelayedS3 } from '../rig/s3.ts';
import { missingTools, which } from '../rig/tools.ts';
import { type LatencyVolume, mountLatencyVolume, volumeUnavailable } from '../rig/volume.ts';
import { openRigDir, resetDestination } from '../rig/workdir.ts';
import type { BenchSuite } from '../types.ts';

/** `--name=value` (bench/index.ts passes only dashed arguments to suites). */
function flag(args: string[], name: string, dflt: string): string {
  const a = args.find((x) => x.startsWith(`${name}=`));
  return a ? a.slice(name.length + 1) : dflt;
}

type Group = 'volume' | 'local' | 's3';

interface Row {
  group: Group;
  what: string;
  baselineLabel: string;
  candidate: string;
  baseline: string;
  /** Third-party tools the baseline needs. */
  tools: string[];
  prep: () => Promise<void> | void;
}

/** A tree of hard links to `from` at `to`: instant to make, and an unlink costs what it would. */
function linkTree(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) linkTree(join(from, e.name), join(to, e.name));
    else linkSync(join(from, e.name), join(to, e.name));
  }
}

export const ioSuite: BenchSuite = {
  name: 'io',
  description:
    'sluice cp/zip/rm vs cp -r, xargs cp, rclone, zip -0 -r, rm -rf, aws s3 cp (latency volume, disk, delayed S3)',
  async run(args) {
    const files = Number(flag(args, '--files', '1000'));
    const kib = Number(flag(args, '--kib', '100'));
    const dirs = Number(flag(args, '--dirs', '20'));
    const ms = Number(flag(args, '--ms', '20'));
    const runs = Number(flag(args, '--runs', '3'));
    const volumeRuns = Number(flag(args, '--volume-runs', '1'));
    const only = flag(args, '--only', '').split(',').filter(Boolean);
    const bigArg = args.find((a) => a === '--big' || a.startsWith('--big='));
    const bigMib = bigArg ? Number(bigArg.split('=')[1] ?? '2048') : 0;

    const rig = openRigDir();
    const src = join(rig.root, 'src'); // what the volume serves: small/, rmtest/, big/
    const small = join(src, 'small');
    const localRm = join(rig.root, 'local-rm');
    const manyFiles = Number(flag(args, '--rm-files', '100000'));
    const many = join(rig.root, 'many'); // empty files: rm -r of a large tree
    const localRmMany = join(rig.root, 'local-rm-many');
    let volume: LatencyVolume | undefined;
    let s3: DelayedS3 | undefined;
    const rows: SummaryRow[] = [];
    const forget = onInterrupt(async () => {
      await volume?.down();
      rig.remove();
    });
    try {
      console.log(describeRun());
      console.log(`# rig ${rig.root}; destination ${rig.dstKind}`);
      console.log(`# data: ${files} files x ${kib} KiB in ${dirs} directories`);
      makeSmallFiles(small, { files, kib, dirs });
      if (bigMib) makeBigFile(join(src, 'big', 'big.bin'), bigMib);

      const skip: Partial<Record<Group, string>> = {};
      if (args.includes('--no-volume')) skip.volume = 'not asked for (--no-volume)';
      else skip.volume = volumeUnavailable();
      if (args.includes('--no-local')) skip.local = 'not asked for (--no-local)';
      if (args.includes('--no-s3')) skip.s3 = 'not asked for (--no-s3)';
      if (!skip.volume) {
        linkTree(small, join(src, 'rmtest'));
        volume = await mountLatencyVolume(rig.root, src, ms);
        console.log(`# volume: ${volume.mount} (latfs, ${ms} ms per request)`);
      } else console.log(`# volume rows skipped: ${skip.volume}`);
      if (!skip.s3) {
        s3 = await startDelayedS3(rig.root, ms);
        const n = await preload(s3, small, 'small');
        console.log(`# s3: ${s3.endpoint} (s3rver + ${ms} ms RTT), s3://${BUCKET}/small = ${n} objects`);
      }

      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...(s3?.env ?? {}),
        SLUICE: `node ${join(REPO_ROOT, 'bin/sluice.js')}`,
        VOL: volume?.mount ?? '',
        SRC: src,
        DST: rig.dst,
        RIG: rig.root,
        RCLONE_CONF: s3?.rcloneConfig ?? '/dev/null',
      };
      // Only 127.0.0.1 is talked to: a CA bundle meant for a proxy would only break rclone and aws.
      delete env.AWS_CA_BUNDLE;

      const volumePrep = async () => {
        resetDestination(rig.dst);
        // Drop whatever a command wrote into the volume, restore rmtest/, and remount (cold caches).
        for (const e of readdirSync(src))
          if (!['small', 'big'].includes(e)) rmSync(join(src, e), { recursive: true });
        linkTree(small, join(src, 'rmtest'));
        await volume?.remount();
      };
      const dstPrep = () => resetDestination(rig.dst);
      const uploadPrep = () => {
        resetDestination(rig.dst);
        for (const p of ['up-sluice', 'up-rclone', 'up-aws'])
          rmSync(join(rig.root, 's3', BUCKET, p), { recursive: true, force: true });
      };
      const xargsCp =
        'cd "$VOL/small" && mkdir -p "$DST/small" && find . -mindepth 1 -type d -print0 | (cd "$DST/small" && xargs -0 -r mkdir -p) && ' +
        'find . -type f -print0 | xargs -0 -P64 -n8 cp --parents -t "$DST/small"';
      const aws =
        'aws --endpoint-url "$AWS_ENDPOINT_URL_S3" s3 cp --recursive --only-show-errors --no-progress';
      const rclone = 'rclone --config "$RCLONE_CONF" copy --transfers 64 --checkers 64 --fast-list';
      const all: Row[] = [
        {
          group: 'volume',
          what: 'cp volume → tmpfs',
          baselineLabel: 'cp -r',
          tools: [],
          prep: volumePrep,
          candidate: '$SLUICE cp "$VOL/small" "$DST/small"',
          baseline: 'cp -r "$VOL/small" "$DST/"',
        },
        {
          group: 'volume',
          what: 'cp volume → tmpfs',
          baselineLabel: 'find | xargs -P64 -n8 cp',
          tools: [],
          prep: volumePrep,
          candidate: '$SLUICE cp "$VOL/small" "$DST/small"',
          baseline: xargsCp,
        },
        {
          group: 'volume',
          what: 'cp volume → tmpfs',
          baselineLabel: 'rclone copy --transfers 64',
          tools: ['rclone'],
          prep: volumePrep,
          candidate: '$SLUICE cp "$VOL/small" "$DST/small"',
          baseline: 'rclone --config /dev/null copy "$VOL/small" "$DST/small" --transfers 64 --checkers 64',
        },
        {
          group: 'volume',
          what: 'zip from volume',
          baselineLabel: 'zip -0 -r -q',
          tools: ['zip'],
          prep: volumePrep,
          candidate: '$SLUICE zip "$DST/out.zip" "$VOL/small"',
          baseline: 'cd "$VOL" && zip -0 -r -q "$DST/out.zip" small',
        },
        {
          group: 'volume',
          what: 'rm -r on volume',
          baselineLabel: 'rm -rf',
          tools: [],
          prep: volumePrep,
          candidate: '$SLUICE rm -r "$VOL/rmtest"',
          baseline: 'rm -rf "$VOL/rmtest"',
        },
        {
          group: 'local',
          what: 'cp local disk → tmpfs',
          baselineLabel: 'cp -r',
          tools: [],
          prep: dstPrep,
          candidate: '$SLUICE cp "$SRC/small" "$DST/small"',
          baseline: 'cp -r "$SRC/small" "$DST/"',
        },
        {
          group: 'local',
          what: 'zip local disk',
          baselineLabel: 'zip -0 -r -q',
          tools: ['zip'],
          prep: dstPrep,
          candidate: '$SLUICE zip "$DST/out.zip" "$SRC/small"',
          baseline: 'cd "$SRC" && zip -0 -r -q "$DST/out.zip" small',
        },
        {
          group: 'local',
          what: 'rm -r local disk',
          baselineLabel: 'rm -rf',
          tools: [],
          prep: () => linkTree(small, localRm),
          candidate: '$SLUICE rm -r "$RIG/local-rm"',
          baseline: 'rm -rf "$RIG/local-rm"',
        },
        {
          // Large enough that start-up no longer dominates: the walk and the unlinks do.
          group: 'local',
          what: `rm -r local disk, ${manyFiles.toLocaleString('en')} files`,
          baselineLabel: 'rm -rf',
          tools: [],
          prep: () => {
            makeSmallFiles(many, { files: manyFiles, kib: 0, dirs: 100 });
            linkTree(many, localRmMany);
          },
          candidate: '$SLUICE rm -r "$RIG/local-rm-many"',
          baseline: 'rm -rf "$RIG/local-rm-many"',
        },
        {
          group: 's3',
          what: `s3 → tmpfs (${ms} ms RTT)`,
          baselineLabel: 'rclone copy --transfers 64',
          tools: ['rclone'],
          prep: dstPrep,
          candidate: `$SLUICE cp s3://${BUCKET}/small "$DST/small"`,
          baseline: `${rclone} rigs3:${BUCKET}/small "$DST/small"`,
        },
        {
          group: 's3',
          what: `s3 → tmpfs (${ms} ms RTT)`,
          baselineLabel: 'aws s3 cp --recursive',
          tools: ['aws'],
          prep: dstPrep,
          candidate: `$SLUICE cp s3://${BUCKET}/small "$DST/small"`,
          baseline: `${aws} s3://${BUCKET}/small "$DST/small"`,
        },
        {
          group: 's3',
          what: `local → s3 (${ms} ms RTT)`,
          baselineLabel: 'rclone copy --transfers 64',
          tools: ['rclone'],
          prep: uploadPrep,
          candidate: `$SLUICE cp "$SRC/small" s3://${BUCKET}/up-sluice`,
          baseline: `${rclone} "$SRC/small" rigs3:${BUCKET}/up-rclone`,
        },
        {
          group: 's3',
          what: `local → s3 (${ms} ms RTT)`,
          baselineLabel: 'aws s3 cp --recursive',
          tools: ['aws'],
          prep: uploadPrep,
          candidate: `$SLUICE cp "$SRC/small" s3://${BUCKET}/up-sluice`,
          baseline: `${aws} "$SRC/small" s3://${BUCKET}/up-aws`,
        },
      ];
      if (bigMib)
        all.push({
          group: 'volume',
          what: `cp one ${bigMib} MiB file volume → tmpfs`,
          baselineLabel: 'cp',
          tools: [],
          prep: volumePrep,
          candidate: '$SLUICE cp --max-memory 256M "$VOL/big/big.bin" "$DST/"',
          baseline: 'cp "$VOL/big/big.bin" "$DST/"',
        });

      for (const r of all) {
        if (only.length && !only.some((o) => `${r.what} ${r.baselineLabel}`.includes(o))) continue;
        const reason = skip[r.group] ?? missingTools(r.tools, env);
        if (reason) {
          rows.push({ what: r.what, baseline: r.baselineLabel, result: { skipped: reason } });
          console.log(`## ${r.what} vs ${r.baselineLabel}: ${reason}`);
          continue;
        }
        try {
          const res = await comparePair(
            {
              what: `${r.what} vs ${r.baselineLabel}`,
              candidate: r.candidate,
              baseline: r.baseline,
              prep: r.prep,
              runs: r.group === 'volume' ? volumeRuns : runs,
            },
            { env, cwd: rig.root },
          );
          rows.push({
            what: r.what,
            baseline: r.baselineLabel,
            result: { sluice: res.candidate, base: res.baseline, ratio: res.ratio, loads: res.loads },
          });
          if (r.group === 'volume') {
            await volume?.remount(); // writes the stats of the last (baseline) mount
            console.log(`#   latfs requests of the baseline's last run: ${volume?.lastStats()}`);
          }
        } catch (e) {
          console.log(`#   FAILED: ${(e as Error).message}`);
          rows.push({ what: r.what, baseline: r.baselineLabel, result: { skipped: 'FAILED (see above)' } });
        }
      }
      if (bigMib && volume && which('time', { PATH: '/usr/bin' })) {
        await volumePrep();
        const r = spawnSync(
          'bash',
          [
            '-c',
            `/usr/bin/time -f 'peak RSS %M KiB, %e s' $SLUICE cp --max-memory 256M "$VOL/big/big.bin" "$DST/" 2>&1 | tail -1`,
          ],
          { env, encoding: 'utf8' },
        );
        console.log(`# sluice cp of the ${bigMib} MiB file with --max-memory 256M: ${r.stdout.trim()}`);
      }
      console.log('\n# summary (medians; ratio = baseline time / sluice time, > 1: sluice is faster)\n');
      console.log(summaryTable(rows));
    } finally {
      await volume?.down();
      await s3?.down();
      await stopAllDaemons();
      rig.remove();
      forget();
    }
  },
};
