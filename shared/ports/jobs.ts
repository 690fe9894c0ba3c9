// Persistence of job records and their results. Every state change is conditional (a version
// check), so a duplicate or late message is a no-op. Implemented on SQLite (embedded) and
// DynamoDB (AWS).
import type { JobState, JobStatus } from './job-state.ts';

export interface JobFilter {
  status?: JobStatus;
  pipelineName?: string;
  limit?: number;
}

export interface JobSummary {
  jobId: string;
  pipelineName: string;
  status: JobStatus;
  priority: number;
  createdAt: number;
  finishedAt?: number;
  reason?: string;
}

/** Reading one job. Some readers may answer from a cache (see JobStore.getJob for the fresh one). */
export interface JobReader {
  getJob(jobId: string): Promise<JobState | undefined>;
}

export interface JobStore extends JobReader {
  createJob(state: JobState): Promise<void>;
  /** The job with its node counters up to date (node tallies included). */
  getJob(jobId: string): Promise<JobState | undefined>;
  /**
   * Writes the state only if the stored version is `expectedVersion`; false on conflict.
   * `changedNodes` names the nodes whose state differs from that version (all when omitted): a
   * store writes only those, so an event costs the same whatever the number of nodes.
   */
  saveJob(state: JobState, expectedVersion: number, changedNodes?: readonly string[]): Promise<boolean>;
  listJobs(filter: JobFilter): Promise<JobSummary[]>;
  /** Jobs not in a final status (for recovery and ttl), oldest first. */
  unfinishedJobs(): Promise<JobState[]>;
  /** Jobs of a pipeline that are running (status active). */
  countActiveJobs(pipelineName: string): Promise<number>;
  /**
   * Jobs of a pipeline that hold a `concurrentPipelines` slot: admitted and not finished. One
   * count, whatever the number of jobs listed.
   */
  countAdmittedUnfinished(pipelineName: string): Promise<number>;

  /**
   * Marks a job whose final status is about to be saved: its after-steps (result webhook,
   * pipeline triggers, admission of waiting jobs) are owed until clearFinishing. Written before
   * the final status, so a process that dies between the two leaves a mark the recovery sweep
   * finds (see engine/finish.ts). Marking again only moves `since`.
   */
  markFinishing(jobId: string, since: number): Promise<void>;
  /** Every marked job, oldest mark first. */
  finishingJobs(): Promise<{ jobId: string; since: number }[]>;
  clearFinishing(jobId: string): Promise<void>;

  /** Stores the job's results (the final status is saved after them). */
  saveResults(jobId: string, results: unknown): Promise<void>;
  getResults(jobId: string): Promise<unknown | undefined>;
}
