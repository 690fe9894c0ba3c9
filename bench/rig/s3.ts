// The delayed S3 endpoint: s3rver on 127.0.0.1 behind delay-proxy.ts, with bucket `rig` preloaded
// (directly, without the delay) from a local directory. `env` is what a client needs to use it:
// the standard AWS variables, so `sluice`, `aws` and rclone all reach the same endpoint.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type Daemon, rigScript, startDaemon } from './daemons.ts';

export const BUCKET = 'rig';

export interface DelayedS3 {
  /** The delayed endpoint (http://127.0.0.1:PORT). */
  endpoint: string;
  /** s3rver itself, without the delay (for preloading). */
  direct: string;
  env: NodeJS.ProcessEnv;
  /** An rclone config with remote `rigs3:` (delayed), written into the rig directory. */
  rcloneConfig: string;
  down(): Promise<void>;
}

export async function startDelayedS3(root: string, ms: number): Promise<DelayedS3> {
  const daemons: Daemon[] = [];
  try {
    const [node, args] = rigScript(
      's3rver-process.ts',
      [join(root, 's3'), BUCKET],
      ['--openssl-legacy-provider'],
    );
    const s3rver = await startDaemon({
      name: 's3rver',
      command: node,
      args,
      logFile: join(root, 's3rver.log'),
      printsPort: true,
    });
    daemons.push(s3rver);
    const [pnode, pargs] = rigScript('delay-proxy.ts', [
      '--target',
      `127.0.0.1:${s3rver.port}`,
      '--ms',
      String(ms),
    ]);
    const proxy = await startDaemon({
      name: 'delay-proxy',
      command: pnode,
      args: pargs,
      logFile: join(root, 'delay-proxy.log'),
      printsPort: true,
    });
    daemons.push(proxy);
    const endpoint = `http://127.0.0.1:${proxy.port}`;
    const env: NodeJS.ProcessEnv = {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const rcloneConfig = join(root, 'rclone.conf');
    writeFileSync(
      rcloneConfig,
      [
        '[rigs3]',
        'type = s3',
        'provider = Other',
        `endpoint = ${endpoint}`,
        'access_key_id = S3RVER',
        'secret_access_key = S3RVER',
        'region = us-east-1',
        'force_path_style = true',
        '',
      ].join('\n'),
    );
    return {
      endpoint,
      direct: `http://127.0.0.1:${s3rver.port}`,
      env,
      rcloneConfig,
      async down() {
        await Promise.all(daemons.map((d) => d.stop()));
      },
    };
  } catch (e) {
    await Promise.all(daemons.map((d) => d.stop()));
    throw e;
  }
}

/** Uploads every file under `dir` to s3://rig/PREFIX/... straight to s3rver (no delay). */
export async function preload(s3: DelayedS3, dir: string, prefix: string): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new S3Client({
    endpoint: s3.direct,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.isFile()) files.push(join(d, e.name));
    }
  };
  walk(dir);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++]!;
      const Key = `${prefix}/${relative(dir, file)}`;
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: readFileSync(file) }));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  client.destroy();
  return files.length;
}
