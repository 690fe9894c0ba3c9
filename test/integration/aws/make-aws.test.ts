// `sluice make --endpoint` on the AWS adapters against the emulators: the api function behind
// HTTP (dynamic-job routes), DynamoDB task records, SQS dispatch and a worker running the
// make-recipe built-in; the spool directory stands for the shared EFS volume.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { sluice, sluiceEnv } from '../../helpers/process.ts';

// The emulated AWS path polls its queues: seconds per DAG level, more on a loaded machine.
vi.setConfig({ testTimeout: 400_000, hookTimeout: 60_000 });

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-make-aws-'));
  bed = await startAwsTestBed('make');
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    http: { port: 0, host: '127.0.0.1' },
    slots: 2,
    s3PollMs: 0,
    onError: () => {},
  });
});

afterAll(async () => {
  await stack?.close();
  await bed?.close();
  rmSync(dir, { recursive: true, force: true });
});

function project(name: string, makefile: string) {
  const cwd = join(dir, name);
  mkdirSync(cwd, { recursive: true });
  writeFileSync(join(cwd, 'Makefile'), makefile);
  const env = sluiceEnv(join(dir, `${name}-home`), {
    SLUICE_CACHE_DIR: join(dir, 'cache'),
    SLUICE_API_AUTH: 'none',
  });
  const make = (args: string[]) =>
    sluice(['make', '--endpoint', stack.url as string, '--spool', join(dir, 'spool'), ...args], {
      cwd,
      env,
      timeoutMs: 380_000,
    });
  return { cwd, make };
}

const listing = (root: string) =>
  Object.fromEntries(
    readdirSync(root)
      .sort()
      .map((f) => [f, readFileSync(join(root, f), 'utf8')]),
  );

const DAG = `all: total
w%.txt:
\techo "word $* word" > $@
c%.txt: w%.txt
\twc -w < $< | tr -d ' ' > $@
total: c1.txt c2.txt
\tcat $^ | paste -sd+ | bc > $@
`;

describe('sluice make on the AWS adapters (emulators)', () => {
  it('builds a pattern-rule DAG into the same files as plain make', async () => {
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    writeFileSync(join(plain, 'Makefile'), DAG);
    execFileSync('make', ['-j', '4'], { cwd: plain, stdio: 'ignore' });
    const p = project('dag', DAG);
    const r = await p.make(['-j', '8']);
    expect(r.stderr).toMatch(/job make-\S+ completed/);
    expect(r.code).toBe(0);
    expect(listing(p.cwd)).toEqual(listing(plain));
    expect(readFileSync(join(p.cwd, 'total'), 'utf8')).toBe('6\n');
  });

  it('-k builds the others when one recipe fails, exits 2 and shows its stderr', async () => {
    const p = project('keep', `all: a b c\na c:\n\techo $@ > $@\nb:\n\t@echo "b is broken" >&2; exit 4\n`);
    const r = await p.make(['-k']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('b is broken');
    expect(r.stderr).toMatch(/job make-\S+ failed/);
    expect(readFileSync(join(p.cwd, 'a'), 'utf8')).toBe('a\n');
    expect(readFileSync(join(p.cwd, 'c'), 'utf8')).toBe('c\n');
  });

  it('40 recipes at once: fewer add requests than recipes, at most two waits in flight, the same files as plain make', async () => {
    const makefile = `all: ${Array.from({ length: 40 }, (_, i) => `out/t${i}`).join(' ')}\nout/t%: | out\n\techo $* > $@\nout: ; mkdir -p $@\n`;
    const plain = join(dir, 'plain-many');
    mkdirSync(plain);
    writeFileSync(join(plain, 'Makefile'), makefile);
    execFileSync('make', ['-j', '40'], { cwd: plain, stdio: 'ignore' });
    // What the API function is asked, through the HTTP server in front of it (API Gateway's place).
    const seen = { adds: 0, added: 0, waiting: 0, mostWaiting: 0 };
    const api = stack.handlers.api;
    stack.handlers.api = async (event) => {
      const e = event as APIGatewayProxyEvent;
      if (e.path.endsWith('/tasks')) {
        seen.adds++;
        seen.added += (JSON.parse(e.body ?? '{}') as { tasks: unknown[] }).tasks.length;
      }
      if (!e.path.endsWith('/wait')) return api(event);
      seen.mostWaiting = Math.max(seen.mostWaiting, ++seen.waiting);
      try {
        return await api(event);
      } finally {
        seen.waiting--;
      }
    };
    try {
      const p = project('many', makefile);
      const r = await p.make(['-j', '40']);
      expect(r.code).toBe(0);
      expect(listing(join(p.cwd, 'out'))).toEqual(listing(join(plain, 'out')));
    } finally {
      stack.handlers.api = api;
    }
    expect(seen.added).toBe(41); // 40 targets and the directory
    expect(seen.adds).toBeLessThan(41);
    expect(seen.mostWaiting).toBeLessThanOrEqual(2);
  });

  it('--endpoint without --spool says what is missing', async () => {
    const p = project('nospool', 'all:\n\ttrue\n');
    const r = await sluice(['make', '--endpoint', stack.url as string], {
      cwd: p.cwd,
      env: sluiceEnv(join(dir, 'x'), { SLUICE_CACHE_DIR: join(dir, 'cache') }),
      timeoutMs: 120_000,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--endpoint needs --spool DIR');
  });
});
