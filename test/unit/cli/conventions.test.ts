// The CLI conventions of docs/cli.md, checked on every command's flags: a short flag means the
// same long flag everywhere, long commands take -q and --no-progress, usage errors exit 2, and
// `-` reads a descriptor or a flowInput from stdin.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../../../cli/context.ts';
import { buildProgram, main } from '../../../cli/main.ts';
import { runCli } from '../../helpers/cli.ts';

const ctx: CliContext = {
  stdout: new PassThrough(),
  stderr: new PassThrough(),
  env: {},
  cwd: process.cwd(),
  exitCode: 0,
  isTTY: false,
};

function commandsOf(cmd: Command, prefix = ''): [string, Command][] {
  return cmd.commands.flatMap((c) => {
    const name = `${prefix}${c.name()}`;
    return [[name, c] as [string, Command], ...commandsOf(c, `${name} `)];
  });
}

/** Short flag → the one long flag it stands for, with the commands allowed to differ (docs/cli.md). */
const SHORT: Record<string, { long: string; except?: Record<string, string> }> = {
  '-f': {
    long: '--flow-input',
    except: {
      'pipeline store': '--file',
      'pipeline import': '--file',
      'algorithm apply': '--file',
      'store pipelines store': '--file',
      'store algorithms apply': '--file',
      rm: '--force',
    },
  },
  '-j': { long: '--jobs' },
  '-c': { long: '--continue' },
  '-H': { long: '--header' },
  '-i': { long: '--input-file' },
  '-d': { long: '--dir' },
  '-w': { long: '--workers' },
  '-q': { long: '--quiet' },
};

const LONG_COMMANDS = [
  'run',
  'exec raw',
  'exec stored',
  'exec rerun',
  'exec caching',
  'watch',
  'cp',
  'sync',
  'check',
  'zip',
  'rm',
  'fetch',
];

describe('CLI conventions (docs/cli.md)', async () => {
  const program = await buildProgram(ctx);
  const all = commandsOf(program);

  it('a short flag stands for the same long flag in every command', () => {
    const seen: string[] = [];
    const wrong: string[] = [];
    for (const [name, c] of all) {
      for (const o of c.options) {
        const rule = o.short ? SHORT[o.short] : undefined;
        if (!rule || !o.short) continue;
        const want = rule.except?.[name] ?? rule.long;
        if (o.long !== want) wrong.push(`${name} ${o.short} is ${o.long}, not ${want}`);
        seen.push(`${name} ${o.short}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(seen).toContain('fetch -j');
    expect(seen).toContain('exec raw -f');
  });

  it('every long-running command takes -q/--quiet and --no-progress', () => {
    for (const name of LONG_COMMANDS) {
      const c = all.find(([n]) => n === name)?.[1];
      expect(c, name).toBeDefined();
      const longs = c!.options.map((o) => o.long);
      expect(longs, name).toContain('--quiet');
      expect(longs, name).toContain('--no-progress');
    }
  });

  it('usage errors exit 2 with one line and a hint; help exits 0', async () => {
    const unknown = await runCli(['cp', '--frobnicate', 'a', 'b']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--frobnicate'/);
    const missing = await runCli(['exec', 'raw', '-f', 'flow.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      'sluice: exec raw needs a descriptor: sluice exec raw FILE (-f flow.json is the flowInput, as in every command)\n',
    );
    const badWorkers = await runCli(['run', 'x.yml', '-w', 'many']);
    expect(badWorkers.code).toBe(2);
    expect((await runCli(['exec', 'logs', '--help'])).code).toBe(0);
  });
});

describe('stdin as -', () => {
  const home = mkdtempSync(join(tmpdir(), 'sluice-stdin-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  async function withStdin(args: string[], input: string) {
    let stdout = '';
    let stderr = '';
    const out = new PassThrough().on('data', (d) => {
      stdout += d;
    });
    const err = new PassThrough().on('data', (d) => {
      stderr += d;
    });
    const c: CliContext = {
      stdout: out,
      stderr: err,
      env: { ...process.env, SLUICE_HOME: home },
      cwd: process.cwd(),
      exitCode: 0,
      isTTY: false,
      stdin: Readable.from([Buffer.from(input)]),
    };
    const code = await main(['node', 'sluice', ...args], c);
    return { code, stdout, stderr };
  }

  it('reads a descriptor, or a flowInput, from stdin', async () => {
    const pipeline =
      'name: piped\nnodes:\n  - nodeName: A\n    algorithmName: echo\n    input: ["@flowInput.x"]\nflowInput:\n  x: 1\n';
    const run = await withStdin(['run', '-', '-q'], pipeline);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([{ nodeName: 'A', algorithmName: 'echo', result: [1] }]);
    const flow = await withStdin(
      ['validate', 'examples/numbers/pipeline.yml', '-f', '-', '--json'],
      '{"data": 2, "mul": 3}',
    );
    expect(flow.code, flow.stderr).toBe(0);
    expect(JSON.parse(flow.stdout)).toMatchObject({ valid: true });
    const twice = await withStdin(['run', '-', '-f', '-'], pipeline);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe('sluice: only one file can be read from stdin (-)\n');
  });
});
