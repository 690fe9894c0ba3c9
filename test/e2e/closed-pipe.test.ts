// `sluice ... | head`: when the reader goes away the CLI ends quietly, not with an EPIPE trace.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('a closed stdout pipe', () => {
  it('ends the command quietly with status 0', async () => {
    const child = spawn(process.execPath, ['bin/sluice.js', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // Read the first chunk, then close our end, as `head -1` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });
});
