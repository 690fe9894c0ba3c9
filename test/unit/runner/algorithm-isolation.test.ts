// User algorithms on the AWS worker hold none of the worker's AWS identity: the pool that
// container-tasks/worker.ts builds starts command (one process per task) and hot python/nodejs
// algorithms without credential variables, and, when the worker is root, as another uid that
// cannot read the worker's /proc/<pid>/environ.
import { chmod, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerPool } from '../../../container-tasks/worker.ts';
import {
  ALGORITHM_USER_ENV,
  algorithmEnv,
  BUILTIN_USER_ENV,
  parseAlgorithmUser,
  workerIsolation,
} from '../../../shared/runner/algorithm-isolation.ts';
import { DatasetCache } from '../../../shared/runner/dataset-cache.ts';
import { WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { datasetCacheOptions } from '../../../shared/runtime/dataset-cache.ts';
import { algorithm, never, type TempDir, task, tempDir } from '../../helpers/workers.ts';

/** What the Fargate agent and the SDK put in a worker's environment, with made-up values. */
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  AWS_SESSION_TOKEN: 'token',
  AWS_SECURITY_TOKEN: 'token',
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/5e0e1f4e-example',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials',
  AWS_CONTAINER_AUTHORIZATION_TOKEN: 'token',
  AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token',
  AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/worker',
  AWS_PROFILE: 'worker',
  ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc',
  ECS_AGENT_URI: 'http://169.254.170.2/api/abc',
};
const KEPT = { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' };

// Each algorithm reports its environment's names, its uid, and whether it could read the
// environment of its parent (the worker).
const PROBE_JS = `
const { readFileSync } = require('node:fs');
function probe() {
  let parentEnviron = 'readable';
  try { readFileSync('/proc/' + process.ppid + '/environ'); } catch (e) { parentEnviron = e.code; }
  return { names: Object.keys(process.env), uid: process.getuid(), parentEnviron };
}
module.exports = { start: () => probe(), probe };
`;
const PROBE_PY = `
import os
def start(args):
    try:
        open(f"/proc/{os.getppid()}/environ", "rb").read()
        parent = "readable"
    except PermissionError:
        parent = "EACCES"
    return {"names": list(os.environ), "uid": os.getuid(), "parentEnviron": parent}
`;

interface Probe {
  names: string[];
  uid: number;
  parentEnviron: string;
}

let dir: TempDir;
let codePath: string;
const pools: WorkerPool[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await tempDir();
  // The code lives on EFS in a deployment, open to the algorithm's uid; here a temp dir.
  await chmod(dir.path, 0o755);
  codePath = await dir.code('probe', {
    'index.js': PROBE_JS,
    'probe.js': `process.stdout.write(JSON.stringify(require('./index.js').probe()));`,
    'main.py': PROBE_PY,
    'uid-builtin.mjs': `export const builtins = [{ name: 'whoami', ioBound: true, run: async () => ({ uid: process.getuid(), gid: process.getgid() }) }];`,
  });
});

afterAll(async () => {
  for (const p of pools) await p.close();
  for (const c of cleanups) await c();
  await dir.remove();
});

function workerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    SLUICE_SHARED_VOLUME: dir.path,
    SLUICE_CACHE_MAX_SIZE: '0',
    ...CREDENTIALS,
    ...KEPT,
    ...extra,
  };
}

/** Runs the probe on the three paths: a command, a hot nodejs and a hot python process. */
async function probes(pool: WorkerPool): Promise<Record<string, Probe>> {
  const algorithms = {
    command: algorithm('probe-cmd', 'command', { command: [process.execPath, 'probe.js'], codePath }),
    nodejs: algorithm('probe-node', 'nodejs', { codePath }),
    python: algorithm('probe-py', 'python', { codePath }),
  };
  const out: Record<string, Probe> = {};
  for (const [path, alg] of Object.entries(algorithms)) {
    const outcome = await pool.run(task(alg, []), never);
    expect(outcome, path).toMatchObject({ status: 'succeeded' });
    out[path] = (outcome as { result: Probe }).result;
  }
  return out;
}

describe('algorithm isolation', () => {
  it('algorithmEnv drops AWS credentials and ECS endpoints, keeps region, endpoints and the rest', () => {
    const env = { ...CREDENTIALS, ...KEPT, AWS_DEFAULT_REGION: 'eu-west-1', HOME: '/root', SLUICE_X: '1' };
    expect(algorithmEnv(env, { scrubCredentials: true })).toEqual({
      ...KEPT,
      AWS_DEFAULT_REGION: 'eu-west-1',
      HOME: '/root',
      SLUICE_X: '1',
    });
    // The embedded engine passes no isolation: the user's own machine, the user's own credentials.
    expect(algorithmEnv(env)).toBe(env);
  });

  it('switches uid only as root, and says once why not otherwise', () => {
    expect(parseAlgorithmUser('1000:1001')).toEqual({ uid: 1000, gid: 1001 });
    expect(parseAlgorithmUser('1000')).toEqual({ uid: 1000, gid: 1000 });
    expect(() => parseAlgorithmUser('node')).toThrow(
      `${ALGORITHM_USER_ENV} must be uid or uid:gid (got "node")`,
    );
    const env = { [ALGORITHM_USER_ENV]: '1000:1000' };
    expect(workerIsolation(env, { getuid: () => 0 })).toEqual({
      scrubCredentials: true,
      user: { uid: 1000, gid: 1000 },
    });
    expect(workerIsolation({ ...env, [BUILTIN_USER_ENV]: '1001:1002' }, { getuid: () => 0 })).toEqual({
      scrubCredentials: true,
      user: { uid: 1000, gid: 1000 },
      builtinUser: { uid: 1001, gid: 1002 },
    });
    expect(() => workerIsolation({ ...env, [BUILTIN_USER_ENV]: 'x' }, { getuid: () => 0 })).toThrow(
      `${BUILTIN_USER_ENV} must be uid or uid:gid (got "x")`,
    );
    const warnings: string[] = [];
    expect(workerIsolation(env, { getuid: () => 500, warn: (m) => warnings.push(m) })).toEqual({
      scrubCredentials: true,
    });
    expect(warnings).toEqual([
      `${ALGORITHM_USER_ENV}=1000:1000: the worker runs as uid 500, not root, so algorithms run as that uid too (without AWS credentials)`,
    ]);
    expect(workerIsolation({}, { getuid: () => 0 })).toEqual({ scrubCredentials: true });
  });

  it("the worker's pool starts command, nodejs and python algorithms without credential variables", async () => {
    const pool = workerPool(2, workerEnv());
    pools.push(pool);
    const seen = await probes(pool);
    for (const [path, p] of Object.entries(seen)) {
      for (const name of Object.keys(CREDENTIALS)) expect(p.names, `${path}: ${name}`).not.toContain(name);
      expect(p.names, path).toEqual(expect.arrayContaining(Object.keys(KEPT)));
      expect(p.names, path).toContain('SLUICE_SHARED_VOLUME');
    }
  }, 30_000);

  it("the AWS worker's dataset cache (which signs with the task role) refuses the engine's buckets", () => {
    const env = { SLUICE_BLOB_BUCKET: 'sluice-blobs', SLUICE_TRIGGER_BUCKET: 'sluice-triggers' };
    const command = datasetCacheOptions(env)?.command ?? [];
    expect(command.slice(2)).toEqual([
      'cache',
      'serve',
      '--deny-bucket',
      'sluice-blobs',
      '--deny-bucket',
      'sluice-triggers',
    ]);
    // Elsewhere (the embedded engine) there are no engine buckets to refuse.
    expect(datasetCacheOptions({})?.command.slice(2)).toEqual(['cache', 'serve']);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'as root, runs them as SLUICE_ALGORITHM_USER, which cannot read the worker process environment (skipped unless the tests run as root)',
    async () => {
      const pool = workerPool(2, workerEnv({ [ALGORITHM_USER_ENV]: '1000:1000' }));
      pools.push(pool);
      const seen = await probes(pool);
      for (const [path, p] of Object.entries(seen)) {
        expect(p.uid, path).toBe(1000);
        expect(p.parentEnviron, path).toBe('EACCES');
        expect(p.names, path).not.toContain('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI');
      }
    },
    30_000,
  );

  it.skipIf(process.getuid?.() !== 0)(
    'as root, runs built-in hosts as SLUICE_BUILTIN_USER: neither root nor the algorithms (skipped unless the tests run as root)',
    async () => {
      const pool = new WorkerPool({
        cacheDir: dir.path,
        maxWorkers: 2,
        builtinModules: [{ url: `file://${codePath}/uid-builtin.mjs`, exportName: 'builtins' }],
        isolation: workerIsolation({ [ALGORITHM_USER_ENV]: '1000:1000', [BUILTIN_USER_ENV]: '1001:1001' }),
      });
      pools.push(pool);
      const outcome = await pool.run(task({ name: 'whoami', env: 'builtin' }, []), never);
      expect(outcome).toMatchObject({ status: 'succeeded', result: { uid: 1001, gid: 1001 } });
      // The dataset cache too: it starts as that user and serves (its directory under /tmp, as on
      // Fargate: created by the cache itself).
      const cacheDir = join(tmpdir(), `sluice-isolation-cache-${process.pid}`);
      cleanups.push(() => rm(cacheDir, { recursive: true, force: true }));
      const options = datasetCacheOptions({ SLUICE_CACHE_DIR: cacheDir });
      const cache = new DatasetCache({ ...options!, user: { uid: 1001, gid: 1001 } });
      try {
        const stats = await fetch(`${await cache.url()}/-/stats`);
        expect(stats.status).toBe(200);
      } finally {
        await cache.close();
      }
    },
    30_000,
  );
});
