import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.ts';

const exec = promisify(execFile);

describe('sluice CLI shell', () => {
  it('prints help with the examples and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: sluice');
    expect(r.stdout).toContain('Examples:');
  });

  it('rejects unknown arguments with exit 1 and a hint', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/run with --help for usage/);
  });

  it('runs as a real process through bin/sluice.js', async () => {
    const { stdout } = await exec(process.execPath, ['bin/sluice.js', '--version']);
    expect(stdout.trim()).toBe('0.1.0');
  });
});
