// Pure decisions about a job that the coordinator acts on: whether its ttl or activeTtl ran
// out, whether a progress event passes its verbosity level, and the webhook payloads.
import type { PipelineResult, ProgressLevel } from '../pipeline/types.ts';
import { PROGRESS_LEVELS } from '../pipeline/types.ts';
import type { JobState } from '../ports/job-state.ts';

/** The stop reason when the job's ttl (from submission) or activeTtl (from its first task) ran out. */
export function expiredTtl(job: JobState, now: number): string | undefined {
  const { ttl, activeTtl } = job.pipeline.options;
  if (ttl && now - job.createdAt >= ttl * 1000) return `pipeline ttl of ${ttl}s expired`;
  if (activeTtl && job.startedAt !== undefined && now - job.startedAt >= activeTtl * 1000) {
    return `pipeline activeTtl of ${activeTtl}s expired`;
  }
  return undefined;
}

/** progressVerbosityLevel L sends events of level L and above. */
export function passesVerbosity(job: JobState, level: string): boolean {
  const rank = (l: string) => PROGRESS_LEVELS.indexOf(l as ProgressLevel);
  return rank(level) >= rank(job.pipeline.options.progressVerbosityLevel);
}

export function progressPayload(job: JobState, level: string, message: string, now: number) {
  const { finished, size } = job.nodes;
  return {
    jobId: job.jobId,
    pipelineName: job.pipeline.name,
    status: job.status,
    level,
    message,
    progress: size ? Math.round((finished / size) * 100) : 100,
    timestamp: new Date(now).toISOString(),
  };
}

export function resultPayload(
  job: JobState,
  status: JobState['status'],
  results: PipelineResult[],
  now: number,
) {
  return {
    jobId: job.jobId,
    pipelineName: job.pipeline.name,
    status,
    ...(job.reason ? { error: job.reason } : {}),
    timestamp: new Date(now).toISOString(),
    data: results,
  };
}
