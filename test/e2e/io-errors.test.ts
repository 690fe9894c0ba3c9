// Every IO error is one line naming the path at fault and the cause, never a stack trace: fetch to
// a missing directory, cp onto an unwritable destination (the destination is named, not the
// source), zip to a directory or a missing directory (named, never the .sluice-N.tmp temp file).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-io-errors-'));
  writeFileSync(join(dir, 'a.txt'), 'hello\n');
  mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'src', 'f1'), '1');
  writeFileSync(join(dir, 'src', 'sub', 'f2'), '2');
  mkdirSync(join(dir, 'outdir'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectOneLine(r: { code: number; stderr: string }, line: string) {
  expect(r.code).toBe(1);
  expect(r.stderr).not.toMatch(/\n\s+at |Unhandled|\.sluice-\d+/);
  expect(r.stderr.split('\n')[0]).toBe(line);
}

describe('fetch -o', () => {
  it('to a missing directory fails up front naming the file and the directory', async () => {
    const out = join(dir, 'missing', 'f');
    const r = await runCli(['fetch', join(dir, 'a.txt'), '-o', out]);
    expectOneLine(r, `sluice: cannot write ${out}: directory ${join(dir, 'missing')} does not exist`);
  });

  it('to an existing directory, or under a file, says so', async () => {
    const r = await runCli(['fetch', join(dir, 'a.txt'), '-o', join(dir, 'outdir')]);
    expectOneLine(r, `sluice: cannot write ${join(dir, 'outdir')}: it is a directory`);
    const under = join(dir, 'a.txt', 'f');
    const r2 = await runCli(['fetch', join(dir, 'a.txt'), '-o', under]);
    expectOneLine(r2, `sluice: cannot write ${under}: a parent of ${under} is not a directory`);
  });
});

describe('cp onto a destination that cannot be written', () => {
  it('names the destination, not the source (a file and a tree)', async () => {
    const dest = join(dir, 'a.txt', 'dest');
    const file = await runCli(['cp', join(dir, 'src', 'f1'), dest]);
    expect(file.code).toBe(1);
    expect(file.stderr.split('\n')[0]).toBe(
      `sluice cp: ${dest}: cannot write ${dest}: a parent of ${dest} is not a directory`,
    );
    const tree = await runCli(['cp', join(dir, 'src'), dest]);
    expect(tree.code).toBe(1);
    expect(tree.stderr.split('\n')[0]).toMatch(new RegExp(`^sluice cp: ${dest}: ENOTDIR`));
    expect(tree.stderr).not.toContain(`${join(dir, 'src')}:`);
  });
});

describe('zip', () => {
  it('to an existing directory fails before reading anything, naming it', async () => {
    const r = await runCli(['zip', join(dir, 'outdir'), join(dir, 'src')]);
    expectOneLine(r, `sluice: zip: cannot write ${join(dir, 'outdir')}: it is a directory`);
    expect(readdirSync(dir).filter((n) => n.includes('.sluice-'))).toEqual([]);
  });

  it('into a missing directory names the zip, not its temp file', async () => {
    const out = join(dir, 'nodir', 'x.zip');
    const r = await runCli(['zip', out, join(dir, 'src')]);
    expectOneLine(r, `sluice: zip: cannot write ${out}: directory ${join(dir, 'nodir')} does not exist`);
  });
});
