// Many engines starting at once on one SLUICE_HOME: exactly one takes engine.lock, whether the lock
// is absent or left by a dead engine (the takeover is serialized by a SQLite write transaction;
// before, check-then-write let several racers remove each other's fresh lock and all "win").
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { REPO } from '../../../helpers/process.ts';

vi.setConfig({ testTimeout: 180_000 });

const RACERS = Number(process.env.SLUICE_LOCK_RACERS ?? 6);
const ROUNDS = Number(process.env.SLUICE_LOCK_ROUNDS ?? 2);
const DEAD_PID = 2 ** 22 + 12345; // above the default pid_max: never a live process

const dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Racer {
  child: ChildProcess;
  out: string;
  exited: Promise<void>;
}

function racer(home: string, start: string, end: string): Racer {
  const script = join(REPO, 'test/helpers/lock-taker.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, home, start, end], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const r: Racer = { child, out: '', exited: new Promise((res) => child.on('exit', () => res())) };
  child.stdout?.on('data', (d) => {
    r.out += d;
  });
  return r;
}

async function until(what: string, ok: () => boolean, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One race: every racer ready, then all released at once; returns the winners' pids. */
async function race(
  round: number,
  stale: boolean,
): Promise<{ winners: number[]; lockPid: number; losers: (string | undefined)[] }> {
  const home = join(dir, `home-${round}`);
  mkdirSync(home, { recursive: true });
  if (stale) writeFileSync(join(home, 'engine.lock'), String(DEAD_PID));
  const start = join(dir, `start-${round}`);
  const end = join(dir, `end-${round}`);
  const racers = Array.from({ length: RACERS }, () => racer(home, start, end));
  try {
    await until('every racer ready', () => racers.every((r) => r.out.includes('ready')));
    writeFileSync(start, '');
    await until('every racer answered', () => racers.every((r) => /\n(won|lost .*)\n/.test(r.out)));
    const winners = racers.filter((r) => r.out.includes('won')).map((r) => r.child.pid as number);
    const lockPid = Number(readFileSync(join(home, 'engine.lock'), 'utf8'));
    const losers = racers.filter((x) => !x.out.includes('won')).map((r) => r.out.split('\n')[1]);
    return { winners, lockPid, losers };
  } finally {
    writeFileSync(end, '');
    await Promise.all(racers.map((r) => r.exited));
  }
}

describe('engine.lock under a start-up race', () => {
  it(`${RACERS} engines at once, ${ROUNDS} rounds (stale lock, no lock): exactly one wins each`, async () => {
    const wins: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { winners, lockPid, losers } = await race(round, round % 2 === 0);
      wins.push(winners.length);
      expect(winners).toEqual([lockPid]);
      for (const l of losers) expect(l).toMatch(`lost an engine (pid ${lockPid}) is already running for `);
    }
    if (process.env.SLUICE_TEST_FIGURES)
      console.error(
        `engine.lock race: ${ROUNDS} rounds of ${RACERS} racers, winners per round ${wins.join(',')}`,
      );
  });
});
