// A read-through cache of job states for decisions that write nothing to the job (whether to
// retry a task, whether an outcome changes more than a counter, what a worker runs): concurrent
// readers of one job share one read, and a state is reused for `maxAgeMs`. A stop still reaches
// running tasks at once through their lease, so a slightly stale state costs nothing.
import type { Clock } from '../ports/clock.ts';
import type { JobState } from '../ports/job-state.ts';
import type { JobReader } from '../ports/jobs.ts';

/** Jobs remembered at most; the oldest entry goes first. */
const MAX_ENTRIES = 1000;

export class ReadThroughJobCache implements JobReader {
  private readonly entries = new Map<string, { job: Promise<JobState | undefined>; at: number }>();

  constructor(
    private readonly source: JobReader,
    private readonly clock: Clock,
    private readonly maxAgeMs: number,
  ) {}

  getJob(jobId: string): Promise<JobState | undefined> {
    const now = this.clock.now();
    const hit = this.entries.get(jobId);
    if (hit && now - hit.at < this.maxAgeMs) return hit.job;
    const job = this.source.getJob(jobId);
    this.entries.set(jobId, { job, at: now });
    job.catch(() => this.entries.delete(jobId));
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    return job;
  }
}
