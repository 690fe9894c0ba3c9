// Saving a transition writes what it changed, not the whole job: the writes per event must not
// grow with the number of nodes (they did: every event re-serialized every node, so a 10,000-node
// pipeline took minutes to submit). Checked on both stores, SQLite and DynamoDB (dynalite), by
// counting the rows changed and the write requests sent for one event on a small and a large job.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../shared/adapters/aws/clients.ts';
import { openDynamoState } from '../../../shared/adapters/aws/dynamo/dynamo-state.ts';
import { ensureTables } from '../../../shared/adapters/aws/dynamo-schema.ts';
import { FileBlobStore } from '../../../shared/adapters/local/file-blob-store.ts';
import { openSqliteState } from '../../../shared/adapters/local/sqlite/sqlite-state.ts';
import { initialJobState, transition } from '../../../shared/engine/transitions.ts';
import { buildDag, validatePipeline } from '../../../shared/pipeline/index.ts';
import { changedNodes, type JobState } from '../../../shared/ports/job-state.ts';
import type { JobStore } from '../../../shared/ports/jobs.ts';
import { type Emulators, startEmulators } from '../../helpers/aws-emulators.ts';

function job(id: string, nodes: number): JobState {
  const pipeline = validatePipeline({
    name: 'wide',
    nodes: Array.from({ length: nodes }, (_, k) => ({
      nodeName: `n${k}`,
      algorithmName: 'echo',
      input: [k],
    })),
  });
  return initialJobState(id, pipeline, buildDag(pipeline), 1_000);
}

/** Applies two one-node events through the pure transition and the store; returns the saved state. */
async function twoEvents(store: JobStore, id: string, nodes: number, between: () => void): Promise<JobState> {
  const j = job(id, nodes);
  await store.createJob(j);
  const dag = buildDag(j.pipeline);
  let state = (await store.getJob(id)) as JobState;
  for (const node of ['n1', 'n2']) {
    between();
    const t = transition(state, dag, { type: 'taskRetried', node, at: 2_000 });
    expect(await store.saveJob(t.state, state.version, changedNodes(state, t.state))).toBe(true);
    state = (await store.getJob(id)) as JobState;
  }
  return state;
}

describe('writes per event do not grow with the node count', () => {
  it('SQLite: one event changes the same few rows for 10 and for 2,000 nodes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-incr-'));
    try {
      const s = openSqliteState(join(dir, 'sluice.db'), new FileBlobStore(join(dir, 'blobs')));
      const changes = () =>
        Number((s.database.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n);
      const perEvent: number[] = [];
      for (const nodes of [10, 2000]) {
        let before = 0;
        const state = await twoEvents(s.jobs, `j${nodes}`, nodes, () => {
          s.database.flush();
          before = changes();
        });
        s.database.flush();
        perEvent.push(changes() - before);
        expect(state.nodes.get('n2')?.retried).toBe(1);
        expect(state.nodes.get('n1')?.retried).toBe(1);
        expect(state.nodes.size).toBe(nodes);
      }
      expect(perEvent[0]).toBeLessThanOrEqual(2); // the job row and the node's row
      expect(perEvent[1]).toBe(perEvent[0]);
      s.database.close();
      // A new process reads the same state back from the rows.
      const again = openSqliteState(join(dir, 'sluice.db'), new FileBlobStore(join(dir, 'blobs')));
      const read = (await again.jobs.getJob('j2000')) as JobState;
      expect(read.nodes.size).toBe(2000);
      expect([
        read.nodes.get('n1')?.retried,
        read.nodes.get('n2')?.retried,
        read.nodes.get('n3')?.retried,
      ]).toEqual([1, 1, 0]);
      again.database.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('DynamoDB', () => {
    let emu: Emulators;
    let dir: string;
    beforeAll(async () => {
      emu = await startEmulators();
      Object.assign(process.env, emu.env);
      dir = mkdtempSync(join(tmpdir(), 'sluice-incr-ddb-'));
    });
    afterAll(async () => {
      await emu?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('one event sends the same few small writes for 10 and for 300 nodes', {
      timeout: 180_000,
    }, async () => {
      const tables = { jobs: 'incr-jobs', tasks: 'incr-tasks', registry: 'incr-registry' };
      await ensureTables(new DynamoDBClient({}), tables);
      const client = createDocumentClient();
      let writes = 0;
      let bytes = 0;
      client.middlewareStack.add(
        (next) => async (args) => {
          const req = args.request as { headers?: Record<string, string>; body?: unknown };
          const target = req.headers?.['x-amz-target'] ?? '';
          if (/PutItem|UpdateItem|BatchWriteItem/.test(target)) {
            writes++;
            const body = req.body as string | Uint8Array | undefined;
            bytes += typeof body === 'string' ? Buffer.byteLength(body) : (body?.length ?? 0);
          }
          return next(args);
        },
        { step: 'finalizeRequest', name: 'countWrites' },
      );
      const blobs = new FileBlobStore(dir);
      const perEvent: { writes: number; bytes: number }[] = [];
      for (const nodes of [10, 300]) {
        const state = openDynamoState({ client, tables, blobs });
        let w0 = 0;
        let b0 = 0;
        // The first event copies the creation's nodes into node items once; the second is the
        // steady state measured here.
        let round = 0;
        const saved = await twoEvents(state.jobs, `d${nodes}`, nodes, () => {
          if (round++ === 1) {
            w0 = writes;
            b0 = bytes;
          }
        });
        perEvent.push({ writes: writes - w0, bytes: bytes - b0 });
        expect(saved.nodes.size).toBe(nodes);
        // Another process (no cache) reads the same state.
        const fresh = (await openDynamoState({ client, tables, blobs }).jobs.getJob(`d${nodes}`)) as JobState;
        expect([
          fresh.nodes.get('n1')?.retried,
          fresh.nodes.get('n2')?.retried,
          fresh.nodes.get('n3')?.retried,
        ]).toEqual([1, 1, 0]);
        expect(fresh.nodes.names.slice(0, 3)).toEqual(['n0', 'n1', 'n2']);
      }
      expect(perEvent[0]?.writes).toBeLessThanOrEqual(2); // the previous event's node, the job item
      expect(perEvent[1]?.writes).toBe(perEvent[0]?.writes);
      expect(perEvent[0]?.bytes).toBeGreaterThan(0);
      expect(perEvent[1]?.bytes).toBeLessThan((perEvent[0]?.bytes ?? 0) * 1.5);
    });
  });
});
