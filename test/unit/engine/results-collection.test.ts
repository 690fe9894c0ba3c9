// A job's results are collected from its task records when it reaches its final status. If they
// cannot be (here: the blob holding a large result cannot be read), the job fails with the reason
// instead of completing with empty results; and results are stored before the final status, so
// a reader never sees a finished job without them.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../../shared/adapters/local/file-blob-store.ts';
import { HttpNotifier } from '../../../shared/adapters/local/http-notifier.ts';
import { openSqliteState, type SqliteState } from '../../../shared/adapters/local/sqlite/sqlite-state.ts';
import { results } from '../../../shared/api/exec.ts';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import { assembleEngine, type Engine } from '../../../shared/engine/assembly.ts';
import type { BlobStore } from '../../../shared/ports/blob-store.ts';
import { systemClock } from '../../../shared/ports/clock.ts';
import { isJobFinal, type JobState } from '../../../shared/ports/job-state.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';

/** A blob store whose result blobs cannot be read back (an outage of the store). */
class UnreadableResults implements BlobStore {
  constructor(private readonly inner: BlobStore) {}
  put(key: string, data: Buffer) {
    return this.inner.put(key, data);
  }
  get(key: string) {
    if (key.endsWith('.result.json')) return Promise.reject(new Error(`blob ${key} is unavailable`));
    return this.inner.get(key);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
}

let home: string | undefined;
let state: SqliteState | undefined;
let engine: Engine | undefined;
afterEach(async () => {
  await engine?.dispatcher?.close();
  state?.database.close();
  if (home) rmSync(home, { recursive: true, force: true });
  engine = undefined;
  state = undefined;
});

function open(blobs: (b: BlobStore) => BlobStore = (b) => b): Engine {
  home = mkdtempSync(join(tmpdir(), 'sluice-results-'));
  state = openSqliteState(join(home, 'sluice.db'), blobs(new FileBlobStore(join(home, 'blobs'))));
  const builtins = allBuiltins();
  engine = assembleEngine(
    {
      jobs: state.jobs,
      jobReads: state.jobs,
      tasks: state.tasks,
      registry: state.registry,
      queue: state.queue,
      notifier: new HttpNotifier(state.database.db),
      clock: systemClock,
      builtins,
    },
    { runner: new InlineRunner(builtins, 2) },
  );
  engine.dispatcher?.start();
  return engine;
}

function finished(e: Engine, jobId: string): Promise<JobState> {
  return new Promise((resolve) =>
    e.feed.on('jobFinished', (ev) => ev.job.jobId === jobId && resolve(ev.job)),
  );
}

describe('collecting a job’s results', () => {
  it('a job whose results cannot be collected fails with the reason (not completed with [])', async () => {
    const e = open((b) => new UnreadableResults(b));
    // Over the inline limit (64 KiB), the sink's result is stored as a blob.
    const big = 'x'.repeat(100_000);
    const job = await e.coordinator.submit({
      name: 'big',
      nodes: [{ nodeName: 'A', algorithmName: 'echo', input: [big] }],
    });
    const final = await finished(e, job.jobId);
    expect(final.status).toBe('failed');
    expect(final.reason).toMatch(
      /^results could not be collected: blob tasks\/[^/]+\/[0-9a-f]{32}\.result\.json is unavailable$/,
    );
    expect(final.nodes.get('A')?.status).toBe('succeeded');
    expect((await results(e.service.deps, job.jobId)).error).toBe(final.reason);
  });

  it('stores the results before the final status: no reader sees a finished job without them', async () => {
    const e = open();
    const seen: unknown[] = [];
    e.feed.on('jobChanged', (ev) => {
      if (isJobFinal(ev.job))
        seen.push(state?.database.db.prepare('SELECT results FROM jobs WHERE job_id = ?').get(ev.job.jobId));
    });
    const job = await e.coordinator.submit({
      name: 'ok',
      nodes: [{ nodeName: 'A', algorithmName: 'echo', input: [1] }],
    });
    const final = await finished(e, job.jobId);
    expect(final.status).toBe('completed');
    expect(seen).toEqual([
      { results: JSON.stringify([{ nodeName: 'A', algorithmName: 'echo', result: [1] }]) },
    ]);
  });
});
