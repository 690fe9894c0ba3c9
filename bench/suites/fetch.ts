// `npm run bench -- fetch [--size-mb=200] [--runs=3] [--rate=50m] [--formats=lz4,gz,tar] [--no-floor]
// [--no-rss]`: sluice fetch -x against curl | dec | tar x, aria2c -x16 && dec | tar x, and the
// no-network floor (dec local | tar x), on the rig's rate-limited Range server (bench/rig/
// http-server.ts, a per-connection cap like an object store's) serving a tar / tar.gz / tar.lz4
// of a generated software tree. Each pair alternates candidate and baseline (medians). The last
// step (unless --no-rss) reports CPU seconds and peak RSS of one run each, which hold up on a
// shared machine where wall-clock times do not.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparePair } from '../rig/compare.ts';
import {
  type Daemon,
  onInterrupt,
  REPO_ROOT,
  rigScript,
  startDaemon,
  stopAllDaemons,
} from '../rig/daemons.ts';
import { makeSoftwareTree } from '../rig/data.ts';
import { describeRun, type SummaryRow, summaryTable } from '../rig/report.ts';
import { missingTools, which } from '../rig/tools.ts';
import { openRigDir, resetDestination } from '../rig/workdir.ts';
import type { BenchSuite } from '../types.ts';

/** `--name=value` (bench/index.ts takes every bare word for a suite name). */
function flag(args: string[], name: string, def: string): string {
  const hit = args.find((a) => a.startsWith(`${name}=`));
  return hit ? hit.slice(name.length + 1) : def;
}

interface Format {
  ext: string;
  /** Decompress stdin (or a file given after it) to stdout; 'cat' for plain tar. */
  dec: string;
  tools: string[];
}

function formats(): Record<string, Format> {
  const gz = which('pigz') ? 'pigz' : 'gzip';
  return {
    lz4: { ext: 'tar.lz4', dec: 'lz4 -dc', tools: ['lz4'] },
    gz: { ext: 'tar.gz', dec: `${gz} -dc`, tools: [gz] },
    tar: { ext: 'tar', dec: 'cat', tools: [] },
  };
}

/** usr.tar (+ .gz, .lz4 when the tools are there) of a generated tree of `sizeMb` MiB. */
function makeArchives(root: string, sizeMb: number): string {
  const www = join(root, 'www');
  const stamp = join(www, 'MANIFEST');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').startsWith(`size_mb=${sizeMb}\n`)) return www;
  const tree = join(root, 'tree');
  makeSoftwareTree(join(tree, 'usr'), sizeMb);
  const tmp = `${www}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const tar = join(tmp, 'usr.tar');
  execFileSync('tar', [
    '-C',
    tree,
    '--sort=name',
    '--mtime=@1700000000',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-cf',
    tar,
    'usr',
  ]);
  if (which('lz4')) execFileSync('lz4', ['-1', '-q', '-f', tar, `${tar}.lz4`]);
  const gz = which('pigz') ? 'pigz' : 'gzip';
  execFileSync('bash', ['-c', `${gz} -1 -n -c "$0" > "$0.gz"`, tar]);
  const sizes = ['usr.tar', 'usr.tar.gz', 'usr.tar.lz4']
    .filter((f) => existsSync(join(tmp, f)))
    .map((f) => `${f}=${statSync(join(tmp, f)).size}`);
  writeFileSync(stamp.replace(www, tmp), `size_mb=${sizeMb}\n${sizes.join('\n')}\n`);
  rmSync(www, { recursive: true, force: true });
  renameSync(tmp, www);
  rmSync(tree, { recursive: true, force: true });
  return www;
}

export const fetchSuite: BenchSuite = {
  name: 'fetch',
  description: 'sluice fetch -x vs curl|tar, aria2c && tar and the local floor (rate-limited Range server)',
  async unavailable() {
    return missingTools(['tar']);
  },
  async run(args) {
    const sizeMb = Number(flag(args, '--size-mb', '200'));
    const runs = Number(flag(args, '--runs', '3'));
    const rate = flag(args, '--rate', '50m');
    const chosen = flag(args, '--formats', 'lz4,gz,tar').split(',');
    const all = formats();
    for (const f of chosen) if (!all[f]) throw new Error(`unknown format ${f} (lz4, gz, tar)`);

    const rateLabel = /[kmg]$/i.test(rate)
      ? `${rate.slice(0, -1)} ${rate.slice(-1).toUpperCase()}iB/s`
      : `${rate} B/s`;
    const rig = openRigDir();
    const forget = onInterrupt(() => rig.remove());
    let server: Daemon | undefined;
    const rows: SummaryRow[] = [];
    const resources: string[] = [];
    try {
      console.log(describeRun());
      console.log(`# rig ${rig.root}; destination ${rig.dstKind}`);
      const www = makeArchives(rig.root, sizeMb);
      console.log(
        `# archives (${sizeMb} MiB generated tree): ${readFileSync(join(www, 'MANIFEST'), 'utf8').trim().split('\n').slice(1).join(', ')}`,
      );
      const serve = async (r: string) => {
        await server?.stop();
        const [node, a] = rigScript('http-server.ts', ['--root', www, '--rate', r]);
        server = await startDaemon({
          name: 'http-server',
          command: node,
          args: a,
          logFile: join(rig.root, 'http.log'),
          printsPort: true,
        });
        console.log(
          `# http server: http://127.0.0.1:${server.port} (${r === '0' ? 'no limit' : `${rateLabel} per connection`})`,
        );
      };
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        SLUICE: `node ${join(REPO_ROOT, 'bin/sluice.js')}`,
        DST: rig.dst,
        WWW: www,
      };
      const prep = () => {
        resetDestination(rig.dst);
        mkdirSync(join(rig.dst, 'out'));
      };
      const pair = async (
        what: string,
        label: string,
        tools: string[],
        candidate: string,
        baseline: string,
      ) => {
        const reason = missingTools(tools, env);
        if (reason) {
          rows.push({ what, baseline: label, result: { skipped: reason } });
          console.log(`## ${what} vs ${label}: ${reason}`);
          return;
        }
        try {
          const r = await comparePair(
            { what: `${what} vs ${label}`, candidate, baseline, prep, runs },
            { env, cwd: rig.root },
          );
          rows.push({
            what,
            baseline: label,
            result: { sluice: r.candidate, base: r.baseline, ratio: r.ratio, loads: r.loads },
          });
        } catch (e) {
          console.log(`#   FAILED: ${(e as Error).message}`);
          rows.push({ what, baseline: label, result: { skipped: 'FAILED (see above)' } });
        }
      };
      const untar = (f: Format, file?: string) =>
        f.dec === 'cat'
          ? `tar -x ${file ? `-f ${file} ` : ''}-C "$DST/out"`
          : `${f.dec} ${file ?? ''} | tar -x -C "$DST/out"`;

      await serve(rate);
      for (const name of chosen) {
        const f = all[name]!;
        const url = `http://127.0.0.1:${server!.port}/usr.${f.ext}`;
        if (!existsSync(join(www, `usr.${f.ext}`))) {
          rows.push({
            what: name,
            baseline: '',
            result: { skipped: `${f.tools.join(', ')} not installed, skipped` },
          });
          continue;
        }
        const ours = `$SLUICE fetch ${url} -x -C "$DST/out" -q`;
        await pair(
          `${name}, ${rateLabel} per connection`,
          f.dec === 'cat' ? 'curl | tar x' : `curl | ${f.dec} | tar x`,
          ['curl', ...f.tools],
          ours,
          `curl -sSf ${url} | ${untar(f)}`,
        );
        const aria = `aria2c -q -x16 -s16 -k8M --file-allocation=none --allow-overwrite=true --auto-file-renaming=false --summary-interval=0 -d "$DST" -o f ${url}`;
        await pair(
          `${name}, ${rateLabel} per connection`,
          f.dec === 'cat' ? 'aria2c -x16 && tar x' : `aria2c -x16 && ${f.dec} | tar x`,
          ['aria2c', ...f.tools],
          ours,
          `${aria} && ${untar(f, '"$DST/f"')}`,
        );
      }
      if (!args.includes('--no-floor')) {
        await serve('0');
        for (const name of chosen) {
          const f = all[name]!;
          if (!existsSync(join(www, `usr.${f.ext}`))) continue;
          const url = `http://127.0.0.1:${server!.port}/usr.${f.ext}`;
          await pair(
            `${name}, no rate limit`,
            f.dec === 'cat' ? 'tar x of the local file (floor)' : `${f.dec} local | tar x (floor)`,
            f.tools,
            `$SLUICE fetch ${url} -x -C "$DST/out" -q`,
            untar(f, `"$WWW/usr.${f.ext}"`),
          );
        }
      }
      const time = '/usr/bin/time';
      if (!args.includes('--no-rss') && !existsSync(time))
        console.log('# CPU and RSS step: /usr/bin/time (Debian package time) not installed, skipped');
      else if (!args.includes('--no-rss')) {
        // CPU (user + sys of all threads and children) and peak RSS of one run each.
        const measure = (cmd: string) => {
          prep();
          const r = spawnSync(
            'bash',
            ['-c', `${time} -f 'res %U %S %M' bash -c '${cmd.replace(/'/g, `'\\''`)}'`],
            { env, encoding: 'utf8' },
          );
          const m = /res ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
          return m
            ? {
                cpu: Number(m[1]) + Number(m[2]),
                user: Number(m[1]),
                sys: Number(m[2]),
                mib: Number(m[3]) / 1024,
              }
            : undefined;
        };
        for (const name of chosen) {
          const f = all[name]!;
          if (!existsSync(join(www, `usr.${f.ext}`))) continue;
          const url = `http://127.0.0.1:${server!.port}/usr.${f.ext}`;
          const ours = measure(`$SLUICE fetch ${url} -x -C "$DST/out" -q --max-memory 256M`);
          const floor = measure(untar(f, `"$WWW/usr.${f.ext}"`));
          if (!ours || !floor) {
            resources.push(`| ${name} | a command failed | | | |`);
            continue;
          }
          const fmt = (x: typeof ours) => `${x.cpu.toFixed(2)} (${x.user.toFixed(2)} + ${x.sys.toFixed(2)})`;
          resources.push(
            `| ${name} | ${fmt(ours)} | ${fmt(floor)} | ${(ours.cpu / floor.cpu).toFixed(2)} | ${ours.mib.toFixed(0)} MiB |`,
          );
        }
      }
      console.log(
        `\n# summary: ${sizeMb} MiB tree, ${runs} run(s) per pair (medians; ratio = baseline / sluice)\n`,
      );
      console.log(summaryTable(rows));
      if (resources.length) {
        console.log('\n# CPU seconds (user + sys) of one run, and sluice peak RSS (--max-memory 256M)\n');
        console.log('| format | sluice | floor (dec local \\| tar x) | sluice / floor | sluice peak RSS |');
        console.log('|---|---|---|---|---|');
        for (const line of resources) console.log(line);
      }
    } finally {
      await server?.stop();
      await stopAllDaemons();
      rig.remove();
      forget();
    }
  },
};
