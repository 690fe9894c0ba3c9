// The coordinator's pure helpers: the caching plan, ttl expiry, progress verbosity, payloads.
import { describe, expect, it } from 'vitest';
import { planCaching } from '../../../shared/engine/caching-plan.ts';
import { expiredTtl, passesVerbosity, progressPayload } from '../../../shared/engine/job-notices.ts';
import { initialJobState } from '../../../shared/engine/transitions.ts';
import { buildDag, validatePipeline } from '../../../shared/pipeline/index.ts';
import type { JobState, NodeState } from '../../../shared/ports/job-state.ts';

function job(options: Record<string, unknown> = {}): { state: JobState; dag: ReturnType<typeof buildDag> } {
  const pipeline = validatePipeline({
    name: 'p',
    options,
    nodes: [
      { nodeName: 'A', algorithmName: 'echo', input: [1] },
      { nodeName: 'B', algorithmName: 'echo', input: ['@A'] },
      { nodeName: 'C', algorithmName: 'echo', input: ['@B'] },
      { nodeName: 'D', algorithmName: 'echo', input: ['@A'] },
    ],
  });
  const dag = buildDag(pipeline);
  return { state: initialJobState('j1', pipeline, dag, 1_000), dag };
}

const withStatus = (s: JobState, statuses: Record<string, NodeState['status']>): JobState => ({
  ...s,
  nodes: s.nodes.withAll(
    [...s.nodes.entries()].map(([k, n]) => [k, { ...n, status: statuses[k] ?? n.status }]),
  ),
});

describe('planCaching', () => {
  it('reuses every node that is not the chosen one or downstream of it', () => {
    const { state, dag } = job();
    const done = withStatus(state, { A: 'succeeded', B: 'succeeded', C: 'succeeded', D: 'skipped' });
    expect(planCaching(done, dag, 'B')).toEqual(['A', 'D']);
    expect(planCaching(done, dag, 'A')).toEqual([]);
  });

  it('refuses an unknown node (404) and a reused node that did not succeed (409)', () => {
    const { state, dag } = job();
    expect(() => planCaching(state, dag, 'Z')).toThrow(/node "Z" is not in pipeline p of job j1/);
    const failed = withStatus(state, { A: 'succeeded', D: 'failed' });
    expect(() => planCaching(failed, dag, 'B')).toThrow(/node "D" of job j1 is failed/);
  });
});

describe('expiredTtl', () => {
  it('counts ttl from submission and activeTtl from the first task start', () => {
    const { state } = job({ ttl: 10, activeTtl: 5 });
    expect(expiredTtl(state, 1_000 + 9_999)).toBeUndefined();
    expect(expiredTtl(state, 1_000 + 10_000)).toBe('pipeline ttl of 10s expired');
    const started = { ...state, startedAt: 4_000 };
    expect(expiredTtl(started, 8_999)).toBeUndefined();
    expect(expiredTtl(started, 9_000)).toBe('pipeline activeTtl of 5s expired');
  });
});

describe('progress events', () => {
  it('pass at the configured level and above, with the share of finished nodes', () => {
    const { state } = job({ progressVerbosityLevel: 'warn' });
    expect(passesVerbosity(state, 'info')).toBe(false);
    expect(passesVerbosity(state, 'warn')).toBe(true);
    expect(passesVerbosity(state, 'critical')).toBe(true);
    const half = withStatus(state, { A: 'succeeded', D: 'succeeded' });
    expect(progressPayload(half, 'warn', 'x', 0)).toMatchObject({ jobId: 'j1', progress: 50, level: 'warn' });
  });
});
