// rm -r racing a rename: a directory inside the target swapped for a symlink to a sibling
// directory while the walk runs must not redirect a single delete outside the target.
import { mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeTree } from '../../../shared/io/rm.ts';
import { tempDir } from '../../helpers/tree.ts';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('rm-race');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ITERATIONS = 30;

function setUp(i: number): { victim: string; outside: string } {
  const victim = join(dir, `victim${i}`);
  const outside = join(dir, `outside${i}`);
  mkdirSync(outside);
  for (let f = 0; f < 50; f++) writeFileSync(join(outside, `keep${f}`), 'k');
  for (const d of ['a', 'b', 'c', 'd', 'e']) {
    mkdirSync(join(victim, d, 'sub'), { recursive: true });
    for (let f = 0; f < 20; f++) writeFileSync(join(victim, d, `f${f}`), 'x');
    for (let f = 0; f < 5; f++) writeFileSync(join(victim, d, 'sub', `g${f}`), 'x');
  }
  return { victim, outside };
}

// local: the compiled helper (native/rm-tree.ts); local-js and network: the JS walker.
describe.each([
  ['local', true],
  ['local-js', false],
  ['network', false],
] as const)('rm -r racing a directory swapped for a symlink (%s)', (mode, native) => {
  const volume = mode === 'network' ? 'network' : 'local';
  it(`deletes 0 files outside its target over ${ITERATIONS} runs`, async () => {
    let deletedOutside = 0;
    let swapped = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const { victim, outside } = setUp(i);
      // The racer: after a varying delay, move a directory of the target away and put a symlink
      // to the outside directory in its place (as an attacker with write access inside would).
      const target = ['a', 'c', 'e'][i % 3]!;
      const delay = i % 4;
      const racer = new Promise<void>((resolve) => {
        const swap = () => {
          try {
            renameSync(join(victim, target), join(dir, `moved${i}`));
            symlinkSync(outside, join(victim, target));
            swapped++;
          } catch {
            // already removed: too late this time
          }
          resolve();
        };
        if (delay === 0) setImmediate(swap);
        else setTimeout(swap, delay - 1);
      });
      await Promise.all([removeTree([victim], { recursive: true, volume, native }), racer]);
      deletedOutside += 50 - readdirSync(outside).length;
    }
    // On a network volume the walk is slow enough for the racer to win every time; on a local
    // disk the whole rm may end before it runs (then nothing is proven, and nothing is lost).
    if (volume === 'network') expect(swapped).toBeGreaterThan(0);
    expect(deletedOutside).toBe(0);
  });
});
