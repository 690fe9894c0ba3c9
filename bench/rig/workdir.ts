// Where a benchmark run keeps its data: $SLUICE_BENCH_DIR (kept afterwards, so generated data is
// reused by the next run), or a fresh temp directory removed at the end. Destinations go to a
// tmpfs (/dev/shm) when there is one, so a figure measures the tool and its source, not the disk.
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface RigDir {
  /** Root of everything this run creates (data, daemons' logs, mount point). */
  root: string;
  /** An empty directory for tools to write into; see `resetDestination`. */
  dst: string;
  /** Where `dst` lives, for the report ("tmpfs /dev/shm" or "the rig directory"). */
  dstKind: string;
  /** Removes what this run created (the data too, unless SLUICE_BENCH_DIR chose the root). */
  remove(): void;
}

export function openRigDir(env: NodeJS.ProcessEnv = process.env): RigDir {
  const chosen = env.SLUICE_BENCH_DIR;
  const root = chosen ? resolve(chosen) : mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  mkdirSync(root, { recursive: true });
  let dst: string;
  let dstKind: string;
  if (writable('/dev/shm')) {
    dst = mkdtempSync('/dev/shm/sluice-bench-dst-');
    dstKind = 'tmpfs (/dev/shm)';
  } else {
    dst = join(root, 'dst');
    mkdirSync(dst, { recursive: true });
    dstKind = 'the rig directory (no /dev/shm)';
  }
  return {
    root,
    dst,
    dstKind,
    remove() {
      rmSync(dst, { recursive: true, force: true });
      if (!chosen) rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Empties the destination between timed commands (each starts from the same state). */
export function resetDestination(dst: string): void {
  rmSync(dst, { recursive: true, force: true });
  mkdirSync(dst, { recursive: true });
}

function writable(dir: string): boolean {
  if (!existsSync(dir)) return false;
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
