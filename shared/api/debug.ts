// The REST operations of debug sessions (ports/debug-sessions.ts): `sluice debug ALGORITHM`
// attaches, asks for tasks (long poll), reports each outcome, and detaches.
import { NotFoundError, SluiceError, ValidationError } from '../errors.ts';
import type { DebugSessions } from '../ports/debug-sessions.ts';
import type { ApiDeps } from './api-deps.ts';
import { obj, onlyFields, str } from './request-body.ts';

/** The longest a lease request waits for a task (ms). */
export const MAX_DEBUG_WAIT_MS = 20_000;

function sessions(deps: ApiDeps): DebugSessions {
  if (deps.debug) return deps.debug;
  throw new SluiceError(
    'debug sessions need a running engine: `sluice serve` (embedded), or the AWS backend',
    'DEBUG_UNAVAILABLE',
    501,
  );
}

export async function attachDebug(deps: ApiDeps, body: unknown) {
  const b = obj(body, 'the request');
  onlyFields(b, ['algorithmName'], 'the request');
  const name = str(b, 'algorithmName');
  const debug = sessions(deps);
  if (!deps.builtins.has(name) && !(await deps.registry.getAlgorithm(name))) {
    throw new NotFoundError(`algorithm "${name}" is not registered`, 'ALGORITHM_NOT_FOUND');
  }
  return await debug.attach(name);
}

export async function leaseDebugTask(deps: ApiDeps, body: unknown) {
  const b = obj(body, 'the request');
  onlyFields(b, ['sessionId', 'waitMs'], 'the request');
  const waitMs = b.waitMs ?? 0;
  if (typeof waitMs !== 'number' || !Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_DEBUG_WAIT_MS) {
    throw new ValidationError(`waitMs must be an integer from 0 to ${MAX_DEBUG_WAIT_MS}`, 'waitMs');
  }
  const task = await sessions(deps).lease(str(b, 'sessionId'), waitMs);
  return { task: task ?? null };
}

export async function keepDebugSession(deps: ApiDeps, body: unknown) {
  const b = obj(body, 'the request');
  onlyFields(b, ['sessionId'], 'the request');
  const sessionId = str(b, 'sessionId');
  await sessions(deps).keepAlive(sessionId);
  return { sessionId, attached: true };
}

export async function reportDebugTask(deps: ApiDeps, body: unknown) {
  const b = obj(body, 'the request');
  onlyFields(b, ['sessionId', 'taskId', 'result', 'error'], 'the request');
  const taskId = str(b, 'taskId');
  if ('error' in b && 'result' in b) throw new ValidationError('give result or error, not both', 'error');
  if ('error' in b && typeof b.error !== 'string')
    throw new ValidationError('error must be a string', 'error');
  const report =
    typeof b.error === 'string' ? { taskId, error: b.error } : { taskId, result: b.result ?? null };
  return { taskId, accepted: await sessions(deps).report(str(b, 'sessionId'), report) };
}

export async function detachDebug(deps: ApiDeps, body: unknown) {
  const b = obj(body, 'the request');
  onlyFields(b, ['sessionId'], 'the request');
  const sessionId = str(b, 'sessionId');
  return { sessionId, detached: true, returned: await sessions(deps).detach(sessionId) };
}

export async function listDebug(deps: ApiDeps) {
  return (await deps.debug?.list()) ?? [];
}
