// The compiled process starter: starts commands with their own directory, environment, output
// files (made only when written to) and process group, reports exit codes, signals and output
// sizes, and refuses what cannot start.
import { execFileSync } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessStarter, processStarterHelper } from '../../../shared/io/native/process-starter.ts';
import { tempDir } from '../../helpers/tree.ts';

let dir: string;
let starter: ProcessStarter;
beforeAll(async () => {
  dir = await tempDir('process-starter');
  const bin = await processStarterHelper();
  expect(bin).toMatch(/process-starter-[0-9a-f]{16}$/); // this machine has a C compiler: the tests need one
  starter = ProcessStarter.launch(bin as string);
});
afterAll(async () => {
  starter.close();
  await rm(dir, { recursive: true, force: true });
});

const files = (name: string) => ({ stdout: join(dir, `${name}.out`), stderr: join(dir, `${name}.err`) });

describe('process starter', () => {
  it('runs a command in its directory with its environment, stdout and stderr to their files', async () => {
    const f = files('env');
    const p = await starter.start({
      argv: ['/bin/sh', '-c', 'pwd; echo "$GREETING"; echo oops >&2; read x || echo no-stdin'],
      cwd: dir,
      env: { GREETING: 'hello there', PATH: process.env.PATH },
      ...f,
    });
    expect(p.pid).toBeGreaterThan(1);
    const out = `${dir}\nhello there\nno-stdin\n`;
    expect(await p.exited).toEqual({ code: 0, signal: null, bytes: [out.length, 5] });
    expect(await readFile(f.stdout, 'utf8')).toBe(out);
    expect(await readFile(f.stderr, 'utf8')).toBe('oops\n');
  });

  it('looks a bare name up in the request PATH and reports exit statuses', async () => {
    const p = await starter.start({
      argv: ['sh', '-c', 'exit 7'],
      cwd: dir,
      env: { PATH: '/usr/bin:/bin' },
      ...files('code'),
    });
    expect(await p.exited).toEqual({ code: 7, signal: null, bytes: [0, 0] });
  });

  it('makes no file for a stream nothing was written to', async () => {
    const f = files('quiet');
    const p = await starter.start({ argv: ['/bin/sh', '-c', 'echo only-err >&2'], cwd: dir, env: {}, ...f });
    expect(await p.exited).toEqual({ code: 0, signal: null, bytes: [0, 9] });
    await expect(stat(f.stdout)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(f.stderr, 'utf8')).toBe('only-err\n');
  });

  it('copies large output whole, and reports its size once the process exited', async () => {
    const f = files('large');
    // 8 MiB, far more than a pipe holds: the process waits on the starter, nothing is lost
    const p = await starter.start({
      argv: ['/bin/sh', '-c', 'head -c 8388608 /dev/zero; echo tail >&2'],
      cwd: dir,
      env: { PATH: '/usr/bin:/bin' },
      ...f,
    });
    expect(await p.exited).toEqual({ code: 0, signal: null, bytes: [8388608, 5] });
    expect((await stat(f.stdout)).size).toBe(8388608);
  });

  it('goes on copying what a process left running writes after its leader exited', async () => {
    const f = files('orphan');
    const p = await starter.start({
      argv: ['/bin/sh', '-c', 'echo first; (sleep 0.3; echo later) &'],
      cwd: dir,
      env: { PATH: '/usr/bin:/bin' },
      ...f,
    });
    expect(await p.exited).toEqual({ code: 0, signal: null, bytes: [6, 0] });
    let text = '';
    for (let i = 0; i < 100 && text !== 'first\nlater\n'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      text = await readFile(f.stdout, 'utf8');
    }
    expect(text).toBe('first\nlater\n');
  });

  it('refuses a program it cannot find, and a directory that does not exist, with the errno', async () => {
    await expect(
      starter.start({
        argv: ['no-such-program-xyz'],
        cwd: dir,
        env: { PATH: '/usr/bin:/bin' },
        ...files('x'),
      }),
    ).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(
      starter.start({ argv: ['/bin/true'], cwd: join(dir, 'missing'), env: {}, ...files('y') }),
    ).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('signals the whole process group, children included', async () => {
    const f = files('group');
    const p = await starter.start({
      argv: ['/bin/sh', '-c', 'sleep 30 & echo $!; wait'],
      cwd: dir,
      env: { PATH: '/usr/bin:/bin' },
      ...f,
    });
    let child = '';
    for (let i = 0; i < 100 && !child; i++) {
      child = (await readFile(f.stdout, 'utf8').catch(() => '')).trim();
      if (!child) await new Promise((r) => setTimeout(r, 20));
    }
    p.killGroup('SIGTERM');
    expect(await p.exited).toMatchObject({ code: null, signal: 'SIGTERM' });
    await new Promise((r) => setTimeout(r, 50));
    // The sleep went with its group: gone, or a zombie waiting for its new parent to reap it.
    const state = await readFile(`/proc/${child}/stat`, 'utf8').then(
      (t) => t.slice(t.lastIndexOf(')') + 2, t.lastIndexOf(')') + 3),
      () => 'gone',
    );
    expect(['gone', 'Z']).toContain(state);
  });

  it('keeps its parent alive while a process it started runs, and not after', () => {
    // The parent waits only on the exit (as sluice make after a stop): it must see it, then end.
    const script = `
      import { ProcessStarter, processStarterHelper } from ${JSON.stringify(`${import.meta.dirname}/../../../shared/io/native/process-starter.ts`)};
      const s = ProcessStarter.launch(await processStarterHelper());
      const p = await s.start({ argv: ['/bin/sleep', '0.3'], cwd: '/', env: {}, stdout: '/dev/null', stderr: '/dev/null' });
      p.exited.then((e) => console.log('exited', e.code));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(out.trim()).toBe('exited 0');
  });

  it('runs many processes at once and tells each its own exit', async () => {
    const runs = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        starter.start({ argv: ['/bin/sh', '-c', `exit ${i}`], cwd: dir, env: {}, ...files(`many${i}`) }),
      ),
    );
    const codes = await Promise.all(runs.map((r) => r.exited.then((e) => e.code)));
    expect(codes).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
