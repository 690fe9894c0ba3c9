import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { commandModules, modulesFor } from '../../../cli/commands/index.ts';
import { runCli } from '../../helpers/cli.ts';

const exec = promisify(execFile);

describe('sluice CLI shell', () => {
  it('prints help with the examples and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: sluice');
    expect(r.stdout).toContain('Examples:');
  });

  it('rejects unknown arguments with exit 2 (a usage error) and a hint', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run with --help for usage/);
  });

  it('runs as a real process through bin/sluice.js', async () => {
    const { stdout } = await exec(process.execPath, ['bin/sluice.js', '--version']);
    expect(stdout.trim()).toBe('0.1.0');
  });

  it('loads only the named command, and every command for help or an unknown name', async () => {
    expect(modulesFor(['rm', '-r', 'x']).map((m) => m.names)).toEqual([['rm']]);
    expect(modulesFor(['resume']).map((m) => m.names)).toEqual([['serve', 'resume']]);
    expect(modulesFor(['--help'])).toBe(commandModules);
    expect(modulesFor(['help', 'rm'])).toBe(commandModules);
    expect(modulesFor(['frobnicate'])).toBe(commandModules);
    expect(modulesFor(['--version'])).toEqual([]);
    // Every name a module claims is a command it registers, and the modules cover the help list.
    const help = await runCli(['--help']);
    for (const m of commandModules)
      for (const n of m.names) expect(help.stdout).toMatch(new RegExp(`\\n  ${n} `));
    const r = await runCli(['cron', 'list', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: sluice cron list');
  });
});
