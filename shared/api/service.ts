// The REST API's operations bound to one engine: what the router, the CLI and the Lambda shells
// hold. The operations themselves live per area (exec.ts, store.ts, triggers.ts, ...) as functions
// of ApiDeps; this is only their handle.
import type { JobOrigin } from '../ports/job-state.ts';
import type { ApiDeps } from './api-deps.ts';
import { type ExecOptions, execRaw, execStored } from './exec.ts';

export type { ApiDeps, CronControl, JobControl } from './api-deps.ts';
/** @deprecated name kept for callers that build the service by hand; same as ApiDeps. */
export type ServiceDeps = ApiDeps;
export { type JobStatusView, jobStatusView } from './job-views.ts';

export class SluiceService {
  constructor(readonly deps: ApiDeps) {}

  /** Starts a run of a descriptor (the S3 trigger uses it with its own origin). */
  execRaw(body: unknown, origin: JobOrigin = { kind: 'api' }, opts: ExecOptions = {}) {
    return execRaw(this.deps, body, origin, opts);
  }

  /** Starts a run of a stored pipeline. */
  execStored(body: unknown, origin: JobOrigin = { kind: 'api' }, opts: ExecOptions = {}) {
    return execStored(this.deps, body, origin, opts);
  }
}
