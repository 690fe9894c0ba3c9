// The latency volume: latfs.c (built here with the system compiler against libfuse3) serving a
// local directory through FUSE with a delay on every request. Needs root, /dev/fuse, a C
// compiler and the Debian packages libfuse3-dev, fuse3 and pkg-config; `volumeUnavailable` says
// in one line which is missing, and the benchmarks skip the volume rows for that reason.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Daemon, RIG_CODE_DIR, startDaemon } from './daemons.ts';
import { which } from './tools.ts';

const SOURCE = join(RIG_CODE_DIR, 'latfs.c');

export function volumeUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the latency volume needs Linux (FUSE)';
  if (process.getuid?.() !== 0) return 'the latency volume needs root (FUSE mount)';
  if (!existsSync('/dev/fuse')) return 'the latency volume needs /dev/fuse';
  const cc = process.env.CC ?? 'cc';
  if (!which(cc)) return `no C compiler (${cc}) to build the latency volume`;
  if (spawnSync('pkg-config', ['--exists', 'fuse3']).status !== 0)
    return 'libfuse3-dev and pkg-config are not installed (latency volume skipped)';
  return undefined;
}

/** Compiles latfs into `binDir` unless a build newer than its source is there. */
export function buildLatfs(binDir: string): string {
  const bin = join(binDir, 'latfs');
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(SOURCE).mtimeMs) return bin;
  mkdirSync(binDir, { recursive: true });
  const flags = execFileSync('pkg-config', ['fuse3', '--cflags', '--libs'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/);
  execFileSync(process.env.CC ?? 'cc', ['-O2', '-Wall', SOURCE, ...flags, '-o', bin], { stdio: 'inherit' });
  return bin;
}

export interface LatencyVolume {
  /** Where the volume is mounted: the files of `source`, each request `ms` late. */
  mount: string;
  source: string;
  ms: number;
  /** Unmounts and mounts again: cold kernel caches for the next timed command. */
  remount(): Promise<void>;
  /** Request counts of the mount before the last remount (latfs writes them at unmount). */
  lastStats(): string;
  down(): Promise<void>;
}

export async function mountLatencyVolume(root: string, source: string, ms: number): Promise<LatencyVolume> {
  const bin = buildLatfs(join(root, 'bin'));
  const mount = join(root, 'mnt');
  const statsFile = join(root, 'latfs.stats');
  mkdirSync(mount, { recursive: true });
  unmount(mount);
  let daemon: Daemon | undefined;
  let stats = '';
  const up = async () => {
    rmSync(statsFile, { force: true });
    daemon = await startDaemon({
      name: 'latfs',
      command: bin,
      args: [source, mount, String(ms), statsFile, '-f'],
      logFile: join(root, 'latfs.log'),
    });
    for (let i = 0; i < 200 && !isMounted(mount); i++) await sleep(25);
    if (!isMounted(mount)) throw new Error(`latfs did not mount ${mount} (log: ${join(root, 'latfs.log')})`);
  };
  const down = async () => {
    unmount(mount);
    // After the unmount latfs writes its stats and exits by itself; stop() waits for that.
    for (let i = 0; i < 100 && daemon && existsSync(`/proc/${daemon.pid}`); i++) await sleep(20);
    await daemon?.stop();
    daemon = undefined;
    if (existsSync(statsFile)) stats = readFileSync(statsFile, 'utf8').trim().replace(/\n/g, ', ');
  };
  await up();
  return {
    mount,
    source,
    ms,
    async remount() {
      await down();
      await up();
    },
    lastStats: () => stats,
    down,
  };
}

function isMounted(dir: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === dir);
}

function unmount(dir: string): void {
  if (!isMounted(dir)) return;
  if (spawnSync('fusermount3', ['-u', dir]).status === 0) return;
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
