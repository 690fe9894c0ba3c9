// The recipe gateway (cli/make/recipe-gateway*.ts) with raw clients speaking the recipe shell's
// protocol: many connections at once, requests in pieces, bad requests, clients that leave early,
// and its end. recipe-shell.test.ts runs the real recipe shell against it.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenForRecipes, type RecipeListener } from '../../../cli/make/recipe-gateway.ts';
import type { RecipeHandler } from '../../../cli/make/recipe-server.ts';
import { tempDir } from '../../helpers/tree.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('recipe-gateway');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ ...process.env, SLUICE_CACHE_DIR: join(dir, 'cache') });

function request(args: string[], environ: string[] = []): Buffer {
  const body = Buffer.from(`${['SLM1', '/tmp', String(args.length), ...args, ...environ].join('\0')}\0`);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** The answer frames a client got before the connection closed, as [type, text]. */
function frames(data: Buffer): [string, string][] {
  const out: [string, string][] = [];
  for (let off = 0; off + 5 <= data.length; ) {
    const len = data.readUInt32BE(off + 1);
    out.push([String.fromCharCode(data[off] as number), data.subarray(off + 5, off + 5 + len).toString()]);
    off += 5 + len;
  }
  return out;
}

/** Sends `chunks` (with a pause between them) and resolves with everything answered. */
function client(path: string, chunks: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    const s = connect(path);
    s.on('data', (d) => got.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(got)));
    s.on('connect', async () => {
      for (const c of chunks) {
        s.write(c);
        await new Promise((r) => setTimeout(r, 5));
      }
    });
  });
}

describe('recipe gateway', () => {
  let gateway: RecipeListener;
  let path: string;
  let interrupts = 0;
  let onStop: (() => void) | undefined;
  const handler: RecipeHandler = {
    recipe: (req, reply) => {
      const [code, out] = [Number(req.args[0]), req.args[1] ?? ''];
      if (out === 'until stopped') {
        onStop = () => reply.exit(code);
        return;
      }
      const answer = () => {
        if (out) reply.stdout(Buffer.from(out));
        reply.exit(code);
      };
      // Some answered at once, some later: the answers of a turn go to the gateway together.
      if (code % 2) setTimeout(answer, code % 7);
      else answer();
    },
    interrupt: () => {
      interrupts++;
      onStop?.();
    },
  };

  beforeAll(async () => {
    path = join(dir, 'g.sock');
    gateway = await listenForRecipes(path, handler, env());
  });

  it('answers many recipe shells at once, each its own', async () => {
    const n = 300;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) => client(path, [request([String(i % 100), `out ${i}`])])),
    );
    answers.forEach((a, i) => {
      expect(frames(a)).toEqual([
        ['1', `out ${i}`],
        ['x', String(i % 100)],
      ]);
    });
  });

  it('takes a request sent in pieces, and a stop request after it', async () => {
    const before = interrupts;
    const r = request(['122', 'until stopped'], ['A=1']);
    const answer = await client(path, [r.subarray(0, 2), r.subarray(2, 9), r.subarray(9), Buffer.from('C')]);
    expect(frames(answer)).toEqual([['x', '122']]);
    expect(interrupts).toBe(before + 1);
  });

  it('answers a request it cannot read with a message and status 123', async () => {
    const body = Buffer.from('HTTP/1.1\0');
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    expect(frames(await client(path, [Buffer.concat([head, body])]))).toEqual([
      ['2', 'sluice make: not a sluice recipe shell request\n'],
      ['x', '123'],
    ]);
  });

  it('goes on serving when a recipe shell leaves before its answer', async () => {
    await new Promise<void>((resolve) => {
      const s = connect(path, () => {
        s.write(request(['5', 'nobody reads this']));
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 1);
      });
    });
    await new Promise((r) => setTimeout(r, 20)); // its answer came after it left
    expect(frames(await client(path, [request(['4', 'still here'])]))).toEqual([
      ['1', 'still here'],
      ['x', '4'],
    ]);
  });

  it('ends with its input: the socket file is removed, and close() waits for its exit', async () => {
    await gateway.close();
    expect(existsSync(path)).toBe(false);
  });

  it('tells when it ends before close(): recipe shells can no longer reach sluice make', async () => {
    const gone: string[] = [];
    const g = await listenForRecipes(join(dir, 'dies.sock'), handler, env(), (why) => gone.push(why));
    process.kill(g.pid as number, 'SIGKILL');
    for (let i = 0; i < 200 && gone.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(gone).toEqual(['the recipe gateway exited (SIGKILL)']);
    await g.close(); // already gone: resolves at once, and says nothing more
    expect(gone).toHaveLength(1);
  });

  it('says why it cannot listen', async () => {
    await expect(listenForRecipes(join(dir, 'no', 'such', 'dir.sock'), handler, env())).rejects.toThrow(
      'the recipe gateway could not listen: No such file or directory',
    );
  });
});
