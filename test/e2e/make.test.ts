// `sluice make` on the embedded engine, end to end: real Makefiles through the real command (GNU
// make, the compiled recipe shell, the engine's worker pool), compared with plain make.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BIN, isAlive, REPO, sluice, sluiceEnv, waitFor } from '../helpers/process.ts';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 60_000 });

let dir: string;
let cache: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-make-'));
  cache = join(dir, 'cache');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh project directory with these files; its own SLUICE_HOME inside. */
function project(name: string, files: Record<string, string>): { cwd: string; env: NodeJS.ProcessEnv } {
  const cwd = join(dir, name);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(cwd, f, '..'), { recursive: true });
    writeFileSync(join(cwd, f), text);
  }
  return { cwd, env: sluiceEnv(join(cwd, '.sluice'), { SLUICE_CACHE_DIR: cache }) };
}

const make = (p: { cwd: string; env: NodeJS.ProcessEnv }, args: string[]) =>
  sluice(['make', '--workers', '2', ...args], { cwd: p.cwd, env: p.env, timeoutMs: 150_000 });

async function jobs(p: { cwd: string; env: NodeJS.ProcessEnv }) {
  const r = await sluice(['exec', 'jobs', '--json'], { cwd: p.cwd, env: p.env });
  return JSON.parse(r.stdout) as { jobId: string; status: string }[];
}

async function recipeCounts(p: { cwd: string; env: NodeJS.ProcessEnv }, jobId: string) {
  const r = await sluice(['exec', 'status', jobId, '--json'], { cwd: p.cwd, env: p.env });
  const s = JSON.parse(r.stdout) as { nodes: { succeeded: number; failed: number; stopped: number }[] };
  return s.nodes[0];
}

/** The files under `root` (not .sluice) with their contents. */
function files(root: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.name === '.sluice') continue;
    if (e.isDirectory()) Object.assign(out, files(root, r));
    else out[r] = readFileSync(join(root, r), 'utf8');
  }
  return out;
}

const DAG = `
N := 1 2 3 4 5 6 7 8
all: total.txt
in/%.txt:
\tmkdir -p in && echo "input $*" > $@
mid/%.len: in/%.txt
\tmkdir -p mid && wc -c < $< | tr -d ' ' > $@
part-a.txt: $(patsubst %,mid/%.len,1 2 3 4)
\tcat $^ | paste -sd+ | bc > $@
part-b.txt: $(patsubst %,mid/%.len,5 6 7 8)
\tcat $^ | paste -sd+ | bc > $@
total.txt: part-a.txt part-b.txt
\tcat $^ | paste -sd+ | bc > $@
\t@echo built $@
`;

describe('sluice make (embedded engine)', () => {
  it('builds a pattern-rule DAG into the same files as plain make, as one job with a task per recipe', async () => {
    const plain = project('dag-plain', { Makefile: DAG });
    execFileSync('make', ['-j', '4'], { cwd: plain.cwd, stdio: 'ignore' });
    const p = project('dag', { Makefile: DAG });
    const r = await make(p, []);
    expect(r.stderr).toMatch(/job make-\S+ completed/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('built total.txt');
    expect(files(p.cwd)).toEqual(files(plain.cwd));
    const [job] = await jobs(p);
    expect(job?.status).toBe('completed');
    // 8 inputs + 8 lengths + 2 parts + total (2 lines: the @echo is a recipe line of its own).
    expect((await recipeCounts(p, job!.jobId))?.succeeded).toBe(8 + 8 + 2 + 2);
    // Up to date: nothing is dispatched, no job is made.
    const again = await make(p, []);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to be done');
    expect(await jobs(p)).toHaveLength(1);
  });

  it('-n prints the recipes and dispatches nothing (no job, no task)', async () => {
    const p = project('dry', { Makefile: DAG });
    const r = await make(p, ['-n']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('echo "input 1" > in/1.txt');
    expect(readdirSync(p.cwd).filter((f) => f !== '.sluice')).toEqual(['Makefile']);
    expect(await jobs(p)).toEqual([]);
  });

  it('-k builds every other target when one recipe fails, exits 2, and shows its stderr', async () => {
    const p = project('keep-going', {
      Makefile: `all: a b c d\na b d:\n\techo $@ > $@\nc:\n\t@echo "c cannot be built" >&2; exit 3\n`,
    });
    const r = await make(p, ['-k']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('c cannot be built');
    expect(r.stderr).toMatch(/\[Makefile:\d+: c\] Error 3/);
    for (const t of ['a', 'b', 'd']) expect(readFileSync(join(p.cwd, t), 'utf8')).toBe(`${t}\n`);
    const [job] = await jobs(p);
    expect(job?.status).toBe('failed');
  });

  it('--output-sync groups the output of parallel recipes per target, stdout apart from stderr', async () => {
    const p = project('sync', {
      Makefile: `all: x y z\nx y z:\n\t@for i in 1 2 3; do echo "$@ line $$i"; sleep 0.2; done\n\t@echo "$@ err" >&2\n`,
    });
    const r = await make(p, ['-j', '3', '--output-sync=target']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(9);
    for (let g = 0; g < 3; g++) {
      const t = lines[g * 3]!.split(' ')[0];
      expect(lines.slice(g * 3, g * 3 + 3)).toEqual([1, 2, 3].map((i) => `${t} line ${i}`));
    }
    expect(r.stderr).toContain('x err');
    expect(r.stdout).not.toContain('err');
  });

  it("passes a recipe's output on while it runs, not only at its end", async () => {
    const p = project('follow', {
      Makefile: 'all:\n\t@echo first; echo warn >&2; while [ ! -f go ]; do sleep 0.1; done; echo second\n',
    });
    const child = spawn(process.execPath, [BIN, 'make', '--workers', '2'], {
      cwd: p.cwd,
      env: p.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    // The recipe waits for a file the test makes only once make has shown its first line.
    await waitFor(
      'the first line while the recipe runs',
      () => out.includes('first') && err.includes('warn'),
      60_000,
    );
    expect(out).not.toContain('second');
    writeFileSync(join(p.cwd, 'go'), '');
    expect(await exited).toBe(0);
    expect(out).toBe('first\nsecond\n');
  });

  it('runs recursive $(MAKE), $(shell) and SLUICE_LOCAL targets in place, the rest as tasks', async () => {
    const where = `@echo "$@ $$( [ -n "$$SLUICE_MAKE_SOCKET" ] && echo here || echo worker )" >> where.log`;
    const p = project('recursive', {
      Makefile: `SLUICE_LOCAL = local-%\nNOW := $(shell echo from-shell)\n.PHONY: sub\nall: sub local-x remote\n\t@echo $(NOW)\nsub:\n\t$(MAKE) -C sub\nlocal-x remote:\n\t${where}\n`,
      'sub/Makefile': `all: one two\none two:\n\techo sub-$@ > $@\n`,
    });
    const r = await make(p, ['-j', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('from-shell');
    expect(readFileSync(join(p.cwd, 'sub/one'), 'utf8')).toBe('sub-one\n');
    expect(readFileSync(join(p.cwd, 'sub/two'), 'utf8')).toBe('sub-two\n');
    expect(readFileSync(join(p.cwd, 'where.log'), 'utf8').split('\n').sort()).toEqual(
      ['', 'local-x here', 'remote worker'].sort(),
    );
    const [job] = await jobs(p);
    // The sub-make's two recipes, `remote` and the final echo; not the $(MAKE) line nor local-x.
    expect((await recipeCounts(p, job!.jobId))?.succeeded).toBe(4);
  });

  it('Ctrl-C stops every running recipe, exits 130, and the next run builds only what is missing', async () => {
    const p = project('interrupt', {
      Makefile: `SLOW ?= 60\nall: $(patsubst %,t%,1 2 3 4)\nt1 t2:\n\techo $$$$ > $@.pid; echo $@ >> runs.log; echo done > $@\n# Start once make saw t1 and t2 finish (an interrupt deletes the targets of unfinished recipes).\nt3 t4: | t1 t2\n\techo $$$$ > $@.pid; echo $@ >> runs.log; sleep $(SLOW); echo done > $@\n`,
    });
    const child = spawn(process.execPath, [BIN, 'make', '--workers', '4', '-j', '4'], {
      cwd: p.cwd,
      env: p.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, as a terminal's foreground job
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const pids = await waitFor(
      'the slow recipes running',
      () => {
        try {
          const ids = ['t3', 't4'].map((t) => Number(readFileSync(join(p.cwd, `${t}.pid`), 'utf8')));
          const done = ['t1', 't2'].every((t) => {
            try {
              return readFileSync(join(p.cwd, t), 'utf8') === 'done\n';
            } catch {
              return false;
            }
          });
          return ids.every((id) => id > 0) && done ? ids : undefined;
        } catch {
          return undefined;
        }
      },
      120_000,
    );
    process.kill(-child.pid!, 'SIGINT'); // what Ctrl-C does: the whole foreground group
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/Interrupt|Error 122/);
    for (const pid of pids) await waitFor(`recipe ${pid} gone`, () => !isAlive(pid), 10_000);
    const [job] = await jobs(p);
    expect(job?.status).toBe('stopped');
    const again = await make(p, ['SLOW=0']);
    expect(again.code).toBe(0);
    for (const t of ['t1', 't2', 't3', 't4']) expect(readFileSync(join(p.cwd, t), 'utf8')).toBe('done\n');
    // t1 and t2 ran once; t3 and t4 once per run.
    expect(readFileSync(join(p.cwd, 'runs.log'), 'utf8').trim().split('\n').sort()).toEqual([
      't1',
      't2',
      't3',
      't3',
      't4',
      't4',
    ]);
  });

  it("gives each recipe make's environment: exported, target-specific and unexported variables as plain make does", async () => {
    const ENV = [
      'export GREETING = hello there',
      'unexport DROPPED',
      'all: a.txt b.txt c.txt',
      'a.txt:',
      '\t@echo "$$GREETING|$${DROPPED-unset}|$${KEPT-none}|$${LOCAL-none}" > $@',
      'b.txt: export LOCAL = only-b',
      'b.txt:',
      '\t@echo "$$GREETING|$${DROPPED-unset}|$${KEPT-none}|$${LOCAL-none}" > $@',
      'c.txt: export KEPT = changed-for-c',
      'c.txt:',
      '\t@echo "$$GREETING|$${DROPPED-unset}|$${KEPT-none}|$${LOCAL-none}" > $@',
      '',
    ].join('\n');
    const outer = { DROPPED: 'from-outside', KEPT: 'kept' };
    const plain = project('env-plain', { Makefile: ENV });
    execFileSync('make', [], { cwd: plain.cwd, env: { ...plain.env, ...outer }, stdio: 'ignore' });
    const p = project('env', { Makefile: ENV });
    const r = await sluice(['make', '--workers', '2'], { cwd: p.cwd, env: { ...p.env, ...outer } });
    expect(r.code).toBe(0);
    expect(files(p.cwd)['a.txt']).toBe('hello there|unset|kept|none\n');
    expect(files(p.cwd)['b.txt']).toBe('hello there|unset|kept|only-b\n');
    expect(files(p.cwd)['c.txt']).toBe('hello there|unset|changed-for-c|none\n');
    expect(files(p.cwd)).toEqual(files(plain.cwd));
  });

  it('an engine that cannot start fails the recipes make started meanwhile, then says why', async () => {
    const p = project('no-engine', { Makefile: 'all: a\na:\n\ttouch $@\n' });
    mkdirSync(join(p.cwd, '.sluice', 'sluice.db'), { recursive: true }); // a directory: no database
    const r = await make(p, []);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error 123'); // make saw the recipe fail to dispatch
    expect(r.stderr.trim().split('\n').at(-1)).toBe('sluice: unable to open database file');
    expect(readdirSync(p.cwd)).not.toContain('a');
  });

  it('explains itself and fails with one line on bad flags', async () => {
    const p = project('flags', { Makefile: 'all:\n\ttrue\n' });
    const help = await sluice(['make', '--help'], { cwd: p.cwd, env: p.env });
    expect(help.stdout).toContain('Exit status');
    expect(help.stdout).toContain('SLUICE_LOCAL');
    const bad = await make(p, ['--retry', 'x']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('--retry must be an integer');
  });
});

void REPO;
