// The recipe shell make starts for every recipe line, built as it is for users (without the C
// library where the machine allows), against a recipe server in this process: what it sends, what
// it relays back and in which stream, its exit status, its stop request on a signal, and its one
// line when the `sluice make` process is not there. Also how a helper's builds are chosen.
import { spawn } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenForRecipes } from '../../../cli/make/recipe-gateway.ts';
import {
  environObject,
  type RecipeHandler,
  type RecipeRequest,
  startRecipeServer,
} from '../../../cli/make/recipe-server.ts';
import { recipeShell } from '../../../cli/make/recipe-shell.ts';
import { compiledHelper } from '../../../shared/io/native/compiled-helper.ts';
import { tempDir } from '../../helpers/tree.ts';

let dir: string;
let shell: string;
let sock = '';
let onRecipe: RecipeHandler['recipe'] = () => {};
let interrupts = 0;
const socket = () => sock;
const handler: RecipeHandler = {
  recipe: (req, reply) => onRecipe(req, reply),
  interrupt: () => interrupts++,
};

/** The two sides the recipe shell talks to: this process's socket server, and the C gateway. */
const SERVERS: Record<string, (path: string) => Promise<{ close(): void }>> = {
  'this process': (path) => startRecipeServer(path, handler),
  'the recipe gateway': (path) =>
    listenForRecipes(path, handler, { ...process.env, SLUICE_CACHE_DIR: join(dir, 'cache') }),
};

beforeAll(async () => {
  dir = await tempDir('recipe-shell');
  shell = await recipeShell({ ...process.env, SLUICE_CACHE_DIR: join(dir, 'cache') });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the recipe shell as make would, collecting both streams apart. */
function runShell(args: string[], env: Record<string, string>, onStart?: (pid: number) => void) {
  const child = spawn(shell, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => err.push(d));
  if (child.pid) onStart?.(child.pid);
  return new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) =>
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }),
    ),
  );
}

const dispatched = (extra: Record<string, string> = {}) => ({
  SLUICE_MAKE_SOCKET: socket(),
  SLUICE_MAKE_TARGET: 'out/a',
  GREETING: 'hello world',
  ...extra,
});

describe.each(Object.keys(SERVERS))('recipe shell, answered by %s', (which) => {
  let server: { close(): void };
  beforeAll(async () => {
    sock = join(dir, `${which.replaceAll(' ', '-')}.sock`);
    server = await (SERVERS[which] as (path: string) => Promise<{ close(): void }>)(sock);
  });
  afterAll(() => server.close());

  it('is built without the C library on Linux x86-64 and arm64 (a static glibc start costs ~0.3 ms)', async () => {
    if (platform() !== 'linux' || !['x64', 'arm64'].includes(arch())) return;
    const bytes = await readFile(shell);
    expect(bytes.includes('GLIBC')).toBe(false); // glibc's version tags are in any program linked with it
    expect((await stat(shell)).size).toBeLessThan(64 * 1024);
  });

  it('sends the directory, the arguments and the environment, and relays output and exit status', async () => {
    let got: RecipeRequest | undefined;
    const big = Buffer.alloc(300_000, 'x'); // bigger than the shell's 64 KiB relay buffer
    onRecipe = (req, reply) => {
      got = req;
      reply.stdout(big);
      reply.stderr(Buffer.from('to stderr\n'));
      reply.stdout(Buffer.from('end\n'));
      reply.exit(5);
    };
    const r = await runShell(['-c', 'touch out/a'], dispatched());
    expect(got).toEqual({
      cwd: dir,
      args: ['-c', 'touch out/a'],
      environ: expect.arrayContaining(['GREETING=hello world', 'SLUICE_MAKE_TARGET=out/a']),
    });
    expect(environObject(got?.environ ?? [])).toMatchObject({ GREETING: 'hello world' });
    expect(r.code).toBe(5);
    expect(r.stdout.equals(Buffer.concat([big, Buffer.from('end\n')]))).toBe(true);
    expect(r.stderr).toBe('to stderr\n');
  });

  it('runs the line in place with the real shell when there is no sluice make process or no target', async () => {
    onRecipe = () => expect.unreachable('nothing is dispatched');
    const local = await runShell(['-c', 'echo "$GREETING"; exit 3'], { GREETING: 'in place' });
    expect(local).toMatchObject({ code: 3, stderr: '' });
    expect(local.stdout.toString()).toBe('in place\n');
    const marked = await runShell(['-c', 'echo marked'], dispatched({ SLUICE_MAKE_LOCAL: '1' }));
    expect(marked.stdout.toString()).toBe('marked\n');
  });

  it('says in one line that the sluice make process is gone, and exits 123', async () => {
    const r = await runShell(['-c', 'true'], dispatched({ SLUICE_MAKE_SOCKET: join(dir, 'nobody.sock') }));
    expect(r.code).toBe(123);
    expect(r.stderr).toBe(
      `sluice make: cannot reach the sluice make process at ${join(dir, 'nobody.sock')}: No such file or directory\n`,
    );
  });

  it('on SIGTERM asks for a stop and waits for the recipe to end before it exits', async () => {
    const before = interrupts;
    let finish: ((code: number) => void) | undefined;
    const arrived = new Promise<void>((resolve) => {
      onRecipe = (_req, reply) => {
        finish = (code) => reply.exit(code);
        resolve();
      };
    });
    let pid = 0;
    const done = runShell(['-c', 'sleep 100'], dispatched(), (p) => {
      pid = p;
    });
    await arrived;
    process.kill(pid, 'SIGTERM');
    while (interrupts === before) await new Promise((r) => setTimeout(r, 10));
    finish?.(143); // the recipe ended: only now does the shell exit, with the recipe's status
    expect((await done).code).toBe(143);
  });
});

describe('compiled helpers', () => {
  it('keeps the first set of flags that compiles and passes the check, else the next', async () => {
    const env = { ...process.env, SLUICE_CACHE_DIR: join(dir, 'cache-sets') };
    const source = [
      '#ifdef NOPE',
      '#error not this one',
      '#endif',
      '#include <stdlib.h>',
      '#include <string.h>',
      'int main(int c, char **v) { return c > 1 && strcmp(v[1], "which") == 0 ? WHICH : EXIT_CODE; }',
    ].join('\n');
    const bin = await compiledHelper('sets', source, env, {
      flagSets: [
        ['-DNOPE', '-DWHICH=1', '-DEXIT_CODE=0'], // does not compile
        ['-DWHICH=2', '-DEXIT_CODE=1'], // compiles, fails its check
        ['-DWHICH=3', '-DEXIT_CODE=0'],
      ],
      check: ['check'],
    });
    const which = await new Promise<number | null>((resolve) =>
      spawn(bin, ['which']).on('close', (code) => resolve(code)),
    );
    expect(which).toBe(3);
  });
});
