// What a user algorithm process may see of the worker that starts it. On AWS the worker holds the
// task role (it may rewrite any job's state); the algorithm must hold none of it: no credential
// variables in its environment (the container credentials endpoint's URI is one), and, when the
// worker runs as root, another uid, so that /proc/<worker pid>/environ and the worker's memory
// are closed to it. Built-in hosts and the dataset cache are Sluice code and keep the worker's
// credentials, but they act on paths and URLs from pipelines: as root they would write anywhere
// in the container, so they run as a third user (neither root nor the algorithms').

/** `uid:gid` user algorithms run as (the AWS worker container sets it; see docs/aws.md). */
export const ALGORITHM_USER_ENV = 'SLUICE_ALGORITHM_USER';
/** `uid:gid` built-in hosts and the dataset cache run as, when the worker is root. */
export const BUILTIN_USER_ENV = 'SLUICE_BUILTIN_USER';

/** AWS_* variables an algorithm keeps: where to connect, never who it is. */
const KEPT_AWS = /^AWS_(REGION|DEFAULT_REGION|ENDPOINT_URL(_\w+)?|USE_FIPS_ENDPOINT|USE_DUALSTACK_ENDPOINT)$/;

export interface AlgorithmIsolation {
  /** Remove AWS credentials (keys, session tokens, profiles, role and container endpoints) and ECS_*. */
  scrubCredentials: boolean;
  /** Run algorithms as this user (needs root; see workerIsolation). */
  user?: PosixUser;
  /** Run built-in hosts and the dataset cache as this user (needs root). */
  builtinUser?: PosixUser;
}

export interface PosixUser {
  uid: number;
  gid: number;
}

/** HOME of an algorithm run as another user: the worker's own (e.g. /root) is not its to write. */
const ALGORITHM_HOME = '/tmp';

/**
 * The environment of an algorithm process: `env` without what identifies the worker to AWS, and
 * HOME where it can write when it runs as another user.
 */
export function algorithmEnv(env: NodeJS.ProcessEnv, isolation?: AlgorithmIsolation): NodeJS.ProcessEnv {
  if (!isolation?.scrubCredentials) return isolation?.user ? { ...env, HOME: ALGORITHM_HOME } : env;
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('ECS_')) continue;
    if (name.startsWith('AWS_') && !KEPT_AWS.test(name)) continue;
    out[name] = value;
  }
  if (isolation.user) out.HOME = ALGORITHM_HOME;
  return out;
}

/** Parses `uid:gid` (or `uid`, gid = uid); throws a one-line error naming the variable. */
export function parseAlgorithmUser(value: string, variable = ALGORITHM_USER_ENV): PosixUser {
  const m = /^(\d+)(?::(\d+))?$/.exec(value.trim());
  if (!m) throw new Error(`${variable} must be uid or uid:gid (got "${value}")`);
  const uid = Number(m[1]);
  return { uid, gid: m[2] === undefined ? uid : Number(m[2]) };
}

/**
 * The isolation a worker applies, from its environment: credentials always scrubbed; the uid
 * switches (ALGORITHM_USER_ENV, BUILTIN_USER_ENV) when set and this process is root (otherwise it
 * cannot switch: `warn` says so once, and everything runs as the worker's uid, algorithms still
 * without credentials).
 */
export function workerIsolation(
  env: NodeJS.ProcessEnv,
  deps: { getuid?: () => number; warn?: (message: string) => void } = {},
): AlgorithmIsolation {
  const wanted = env[ALGORITHM_USER_ENV];
  if (!wanted) return { scrubCredentials: true };
  const user = parseAlgorithmUser(wanted);
  const uid = (deps.getuid ?? process.getuid)?.();
  if (uid === user.uid) return { scrubCredentials: true };
  if (uid !== 0) {
    (deps.warn ?? ((m: string) => process.emitWarning(m)))(
      `${ALGORITHM_USER_ENV}=${wanted}: the worker runs as uid ${uid ?? '?'}, not root, so algorithms run as that uid too (without AWS credentials)`,
    );
    return { scrubCredentials: true };
  }
  const builtin = env[BUILTIN_USER_ENV];
  return {
    scrubCredentials: true,
    user,
    ...(builtin ? { builtinUser: parseAlgorithmUser(builtin, BUILTIN_USER_ENV) } : {}),
  };
}
