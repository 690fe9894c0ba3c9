// Rejected means unchanged: node names and node counts have documented limits, a request over
// them is a clear 400 that leaves no job and no task behind, and a name at the limit with a value
// large enough to go to the blob store runs (blob keys never contain the node name).
import { afterEach, describe, expect, it } from 'vitest';
import { handleApi } from '../../../shared/api/router.ts';
import type { SluiceService } from '../../../shared/api/service.ts';
import { MAX_NODES, NODE_NAME_MAX_LENGTH } from '../../../shared/pipeline/constants.ts';
import { openTestEngine, serviceOf, type TestEngine } from '../../helpers/engine.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function service(): Promise<SluiceService> {
  t = await openTestEngine();
  return serviceOf(t);
}

const big = 'x'.repeat(70 * 1024);
const raw = (name: string) => ({
  method: 'POST',
  path: '/exec/raw',
  query: {},
  body: {
    name: 'names',
    nodes: [
      { nodeName: name, algorithmName: 'echo', input: ['@flowInput.big'] },
      { nodeName: 'after', algorithmName: 'echo', input: [`@${name}`] },
    ],
    flowInput: { big },
  },
});

function leftBehind(): { jobs: number; tasks: number } {
  const db = t?.engine.db;
  if (!db) throw new Error('no engine');
  const count = (table: string) =>
    Number((db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n);
  return { jobs: count('jobs'), tasks: count('tasks') };
}

describe('node name and node count limits', () => {
  for (const length of [300, 250]) {
    it(`a ${length}-character node name with a >64 KiB input is a 400 that creates nothing`, async () => {
      const s = await service();
      const r = await handleApi(s, raw('n'.repeat(length)));
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({
        error: {
          code: 400,
          message: `nodes[0].nodeName must be at most ${NODE_NAME_MAX_LENGTH} characters long`,
        },
      });
      expect(leftBehind()).toEqual({ jobs: 0, tasks: 0 });
    });
  }

  it('a name at the limit, with spaces, and a >64 KiB input runs to completion', async () => {
    const s = await service();
    const name = `load ${'é'.repeat(NODE_NAME_MAX_LENGTH - 5)}`;
    const r = await handleApi(s, raw(name));
    expect(r.status).toBe(201);
    const jobId = (r.body as { jobId: string }).jobId;
    const job = await t?.engine.waitForJob(jobId);
    expect(job?.status).toBe('completed');
    const results = (await t?.engine.jobs.getResults(jobId)) as { result: unknown[] }[];
    expect(JSON.stringify(results).length).toBeGreaterThan(70 * 1024);
  });

  it(`more than ${MAX_NODES} nodes is a 400 that says what to do instead`, async () => {
    const s = await service();
    const r = await handleApi(s, {
      method: 'POST',
      path: '/exec/raw',
      query: {},
      body: {
        name: 'huge',
        nodes: Array.from({ length: MAX_NODES + 1 }, (_, k) => ({
          nodeName: `n${k}`,
          algorithmName: 'echo',
        })),
      },
    });
    expect(r.status).toBe(400);
    const message = (r.body as { error: { message: string } }).error.message;
    expect(message).toContain(`nodes must have at most ${MAX_NODES} items`);
    expect(message).toContain('batch node');
    expect(leftBehind()).toEqual({ jobs: 0, tasks: 0 });
  });
});
