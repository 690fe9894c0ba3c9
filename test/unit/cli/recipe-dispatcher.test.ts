// sluice make's recipe dispatcher against a client that records its requests: when recipes are
// gathered into one add, and when one goes alone.
import { describe, expect, it } from 'vitest';
import type { SluiceClient } from '../../../cli/connection.ts';
import { RecipeDispatcher } from '../../../cli/make/recipe-dispatcher.ts';
import type { RecipeReply } from '../../../cli/make/recipe-server.ts';

const GATHER_MS = 200;

function dispatcher() {
  const adds: { at: number; tasks: number }[] = [];
  let n = 0;
  const client = {
    where: 'test',
    live: true,
    call: async (method: string, path: string, body?: { tasks?: unknown[] }) => {
      if (path === '/exec/dynamic') return { jobId: 'j' };
      if (path.endsWith('/tasks')) {
        adds.push({ at: performance.now(), tasks: body?.tasks?.length ?? 0 });
        return { tasks: (body?.tasks ?? []).map(() => ({ taskId: `t${++n}` })) };
      }
      if (path.endsWith('/wait')) return new Promise(() => {}); // nothing finishes here
      throw new Error(`unexpected ${method} ${path}`);
    },
  } as unknown as SluiceClient;
  const d = new RecipeDispatcher({
    client,
    baseEnv: {},
    spoolDir: '/nonexistent',
    pipelineName: 'make',
    retry: 0,
    batchMs: GATHER_MS,
  });
  const reply: RecipeReply = { stdout: () => {}, stderr: () => {}, exit: () => {} };
  const recipe = () => d.recipe({ cwd: '/', args: ['-c', 'true'], environ: ['SLUICE_MAKE_TARGET=a'] }, reply);
  return { adds, recipe, close: () => d.close(0) };
}

describe('recipe dispatcher', () => {
  it('sends a recipe alone in flight at once, and gathers those that come while others run', async () => {
    const { adds, recipe } = dispatcher();
    const t0 = performance.now();
    recipe(); // alone: a chain of targets, each waiting for the one before
    await new Promise((r) => setTimeout(r, 20));
    expect(adds).toHaveLength(1);
    expect((adds[0]?.at ?? Infinity) - t0).toBeLessThan(GATHER_MS / 2);
    recipe(); // the first still runs: this one and the next are gathered
    recipe();
    await new Promise((r) => setTimeout(r, 20));
    expect(adds).toHaveLength(1);
    await new Promise((r) => setTimeout(r, GATHER_MS));
    expect(adds.map((a) => a.tasks)).toEqual([1, 2]);
  });
});
