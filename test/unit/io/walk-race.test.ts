// cp -r and zip -r racing a rename: a directory inside the source swapped for a symlink to an
// outside directory (holding files of the same names) while the walk runs must not make them copy
// or pack a single byte from outside the source.
import { mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyTree } from '../../../shared/io/cp.ts';
import { newCounters, type ProgressCounters } from '../../../shared/io/progress.ts';
import { zipTree } from '../../../shared/io/zip.ts';
import { tempDir } from '../../helpers/tree.ts';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('walk-race');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ITERATIONS = 16;
const SECRET = 'OUTSIDE-SECRET';
const DIRS = ['a', 'b', 'c', 'd', 'e'];

function setUp(i: number): { src: string; outside: string } {
  const src = join(dir, `src${i}`);
  const outside = join(dir, `outside${i}`);
  mkdirSync(join(outside, 'sub'), { recursive: true });
  for (let f = 0; f < 40; f++) writeFileSync(join(outside, `f${f}`), `${SECRET} ${f}\n`);
  for (let f = 0; f < 5; f++) writeFileSync(join(outside, 'sub', `g${f}`), `${SECRET} sub ${f}\n`);
  for (const d of DIRS) {
    mkdirSync(join(src, d, 'sub'), { recursive: true });
    for (let f = 0; f < 40; f++) writeFileSync(join(src, d, `f${f}`), `inside ${d} ${f}\n`);
    for (let f = 0; f < 5; f++) writeFileSync(join(src, d, 'sub', `g${f}`), `inside ${d} sub ${f}\n`);
  }
  return { src, outside };
}

/**
 * The racer: once the walk has listed something and a varying number of files are done, moves a
 * directory of the source away and links the outside directory in its place (as someone with
 * write access inside the source would). Polls between the operation's own steps.
 */
function racer(
  src: string,
  outside: string,
  i: number,
  counters: ProgressCounters,
): { done: Promise<void>; stop(): void; swapped(): boolean } {
  const target = DIRS[i % DIRS.length]!;
  const after = [0, 5, 20, 60][i % 4]!;
  let swapped = false;
  let stopped = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const poll = () => {
    if (stopped) return resolveDone();
    if ((counters.totalFiles ?? 0) === 0 || counters.files < after) return void setImmediate(poll);
    try {
      renameSync(join(src, target), join(dir, `moved${i}`));
      symlinkSync(outside, join(src, target));
      swapped = true;
    } catch {
      // too late this time
    }
    resolveDone();
  };
  setImmediate(poll);
  return {
    done,
    stop: () => {
      stopped = true;
    },
    swapped: () => swapped,
  };
}

/** Every file under `root` whose content comes from outside the source. */
function leakedFiles(root: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    if (readFileSync(p, 'utf8').includes(SECRET)) out.push(p);
  }
  return out;
}

describe.each(['local', 'network'] as const)(
  'cp -r and zip -r racing a directory swapped for a symlink (--volume %s)',
  (volume) => {
    it(`cp copies 0 files from outside its source over ${ITERATIONS} runs`, async () => {
      const leaked: string[] = [];
      let swaps = 0;
      for (let i = 0; i < ITERATIONS; i++) {
        const { src, outside } = setUp(i);
        const dst = join(dir, `dst${i}`);
        const progress = newCounters();
        const race = racer(src, outside, i, progress);
        await Promise.all([copyTree([src], dst, { volume, progress }).finally(race.stop), race.done]);
        if (race.swapped()) swaps++;
        leaked.push(...leakedFiles(dst));
      }
      // On a network volume the walk gives the racer a turn every time; on a local disk the copy
      // may end first (then nothing is proven, and nothing leaks).
      if (volume === 'network') expect(swaps).toBeGreaterThan(0);
      expect(leaked).toEqual([]);
    }, 120_000);

    it(`zip packs 0 files from outside its inputs over ${ITERATIONS} runs (sorted or not)`, async () => {
      let leaked = 0;
      let swaps = 0;
      for (let i = 0; i < ITERATIONS; i++) {
        const { src, outside } = setUp(i);
        const out = join(dir, `out${i}.zip`);
        const progress = newCounters();
        const race = racer(src, outside, i, progress);
        await Promise.all([
          zipTree(out, [src], { volume, progress, sort: i % 2 === 1 }).finally(race.stop),
          race.done,
        ]);
        if (race.swapped()) swaps++;
        // Stored entries: the content is in the archive as is.
        if (readFileSync(out).includes(SECRET)) leaked++;
      }
      if (volume === 'network') expect(swaps).toBeGreaterThan(0);
      expect(leaked).toBe(0);
    }, 120_000);
  },
);
