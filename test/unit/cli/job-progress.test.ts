// How `sluice watch` and `sluice run` draw progress: a redrawn line on a terminal, plain lines on
// change otherwise; both end with the final status.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { SluiceClient } from '../../../cli/connection.ts';
import type { CliContext } from '../../../cli/context.ts';
import { followJob, formatStatusLine } from '../../../cli/job-progress.ts';
import type { JobStatusView } from '../../../shared/api/service.ts';

function view(status: string, succeeded: number, running: number, retried = 0): JobStatusView {
  const created = 4;
  return {
    jobId: 'j1',
    pipelineName: 'p',
    status,
    priority: 3,
    createdAt: new Date(0).toISOString(),
    progress: status === 'completed' ? 100 : 0,
    tasks: {
      created,
      remaining: created - succeeded,
      queued: created - succeeded - running,
      running,
      succeeded,
      failed: 0,
      stopped: 0,
      retried,
    },
    nodes: [],
  } as unknown as JobStatusView;
}

function scripted(views: JobStatusView[]): SluiceClient {
  let i = 0;
  return {
    where: 'test',
    live: true,
    call: async <T>() => views[Math.min(i++, views.length - 1)] as T,
    close: async () => {},
  };
}

function context(isTTY: boolean): { ctx: CliContext; err: () => string } {
  let err = '';
  const stderr = new PassThrough();
  stderr.on('data', (d) => {
    err += d;
  });
  const ctx: CliContext = {
    stdout: new PassThrough(),
    stderr,
    env: {},
    cwd: process.cwd(),
    exitCode: 0,
    isTTY,
  };
  return { ctx, err: () => err };
}

const run = [view('active', 0, 2), view('active', 0, 2), view('active', 2, 2, 1), view('completed', 4, 0, 1)];

describe('followJob', () => {
  it('on a terminal redraws one line and ends it with a newline', async () => {
    const { ctx, err } = context(true);
    const s = await followJob(ctx, scripted(run), 'j1', { intervalMs: 1 });
    expect(s.status).toBe('completed');
    const frames = err().split('\r\x1b[2K').filter(Boolean);
    expect(frames).toHaveLength(4);
    expect(err().endsWith('\n')).toBe(true);
    expect(frames.at(-1)).toMatch(
      /^j1 completed 100% \| tasks 4\/4 \(remaining 0, running 0, succeeded 4, failed 0, retried 1\)/,
    );
  });

  it('otherwise prints a plain line per change, none for an unchanged state', async () => {
    const { ctx, err } = context(false);
    await followJob(ctx, scripted(run), 'j1', { intervalMs: 1 });
    const lines = err().trim().split('\n');
    expect(err()).not.toMatch(/\r|\x1b/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/remaining 2, running 2, succeeded 2, failed 0, retried 1/);
  });

  it('shows throughput and an ETA from the tasks done so far', () => {
    const line = formatStatusLine(view('active', 2, 2), 1000);
    expect(line).toMatch(/\| 2 tasks\/s ETA 1s$/);
  });
});

describe('the progress line', () => {
  it('fits the terminal width, shortening before cutting', () => {
    const v = {
      ...view('active', 2, 2, 1),
      jobId: 'a-pipeline-with-a-long-name-mx81ig8ubd0dc3c4',
    } as JobStatusView;
    const full = formatStatusLine(v, 1000);
    expect(full.length).toBeGreaterThan(80);
    for (const cols of [80, 60, 40, 20]) expect(formatStatusLine(v, 1000, cols).length).toBeLessThan(cols);
    expect(formatStatusLine(v, 1000, 120)).toMatch(/ 2\/4 run 2 ok 2 fail 0 retry 1 /);
  });

  it('shows no ETA once the job failed', () => {
    const failed = { ...view('failed', 2, 0), progress: 50 } as JobStatusView;
    expect(formatStatusLine(failed, 1000)).not.toMatch(/ETA/);
    expect(formatStatusLine(view('active', 2, 2), 1000)).toMatch(/ETA \d+s/);
  });
});
