// Readers of the query parameters job listings share (status, limit, times), failing with a
// ValidationError that names the parameter and the rule.
import { ValidationError } from '../errors.ts';
import type { JobStatus } from '../ports/job-state.ts';

export const JOB_STATUSES: readonly JobStatus[] = ['pending', 'active', 'completed', 'failed', 'stopped'];

/** How many jobs a search or a latest-runs query looks through (newest first). */
export const SEARCH_SCAN = 10_000;

export function statusFilter(value: string | undefined): JobStatus | undefined {
  if (value !== undefined && !JOB_STATUSES.includes(value as JobStatus)) {
    throw new ValidationError(`status must be one of ${JOB_STATUSES.join(', ')}`, 'status');
  }
  return value as JobStatus | undefined;
}

export function limitOf(value: string | undefined, fallback: number, max = 10_000): number {
  const limit = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new ValidationError(`limit must be an integer between 1 and ${max}`, 'limit');
  }
  return limit;
}

/** A time as an ISO date or epoch milliseconds. */
export function timeOf(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(t))
    throw new ValidationError(`${field} must be an ISO date or epoch milliseconds`, field);
  return t;
}
