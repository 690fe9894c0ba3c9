// The progress line on a real terminal: `sluice run` in a pseudo-terminal of 80x24 (python3's pty
// module) redraws one line in place (carriage return + erase, no newline until the end), and every
// drawn line fits in 80 columns, so nothing wraps or scrolls.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { slowPipeline, writeAlgorithms } from './fixtures.ts';

vi.setConfig({ testTimeout: 120_000 });

const PTY_RUN = `
import fcntl, os, pty, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-pty-'));
  writeAlgorithms(dir);
  writeFileSync(join(dir, 'slow.yml'), slowPipeline('a-pipeline-with-a-rather-long-name', 8, 0.4));
  writeFileSync(join(dir, 'pty-run.py'), PTY_RUN);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('redraws the progress line in place within 80 columns', () => {
  // The window size is set right after the fork; the child reads it when it draws.
  const out = execFileSync(
    'python3',
    [
      join(dir, 'pty-run.py'),
      process.execPath,
      resolve('bin/sluice.js'),
      'run',
      '-w',
      '2',
      join(dir, 'slow.yml'),
    ],
    {
      env: { ...process.env, SLUICE_HOME: join(dir, 'home'), SLUICE_TEST_LOG: join(dir, 'slow.log') },
      encoding: 'utf8',
    },
  );
  const redraws = out.split('\r\x1b[2K').slice(1);
  expect(redraws.length).toBeGreaterThanOrEqual(3);
  for (const r of redraws) {
    const line = r.split(/\r?\n/)[0]!;
    expect(line.length, line).toBeLessThanOrEqual(79);
  }
  // In place: no newline between redraws; the last one ends the line.
  for (const r of redraws.slice(0, -1)) expect(r, JSON.stringify(r)).not.toMatch(/\n/);
  expect(redraws.at(-1)).toMatch(/ completed 100% /);
  expect(out).toContain('"result"');
});
