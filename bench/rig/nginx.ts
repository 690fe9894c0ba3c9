// nginx as a read-through cache in front of an HTTP origin, configured as Nezha's caching proxy
// was, plus what it lacked: `proxy_cache` with the `slice` module (ranges cached as 8 MiB slices,
// so a 206 is cached), `proxy_cache_lock` (one origin request per missing slice), a size cap. The
// benchmark's baseline for `sluice cache serve`. Runs Debian's nginx with a prefix of its own (no
// system config, no root needed; as root, workers keep root's uid so they can write the cache).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

export interface NginxCache {
  url: string;
  /** nginx -V's version line. */
  version: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function nginxConf(
  prefix: string,
  port: number,
  origin: string,
  maxSize: string,
  sliceBytes: number,
): string {
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${join(prefix, 'tmp', t)};`)
    .join('\n');
  return `${user}worker_processes 2;
daemon off;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
${temps}
  proxy_cache_path ${join(prefix, 'cache')} levels=1:2 keys_zone=bench:64m max_size=${maxSize} inactive=1d use_temp_path=off;
  upstream origin { server ${origin}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      slice ${sliceBytes};
      proxy_cache bench;
      proxy_cache_key $uri$is_args$args$slice_range;
      proxy_set_header Range $slice_range;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache_valid 200 206 1d;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 120s;
      proxy_cache_lock_age 120s;
      proxy_pass http://origin;
    }
  }
}
`;
}

async function waitForPort(port: number, child: ChildProcess, log: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}; see ${log}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port}; see ${log}`);
}

/** Starts nginx caching `origin` (host:port) under `prefix` (created; its cache starts empty). */
export async function startNginxCache(o: {
  prefix: string;
  origin: string;
  maxSize: string;
  sliceBytes: number;
}): Promise<NginxCache> {
  for (const d of ['cache', 'tmp']) mkdirSync(join(o.prefix, d), { recursive: true });
  const port = await freePort();
  const conf = join(o.prefix, 'nginx.conf');
  writeFileSync(conf, nginxConf(o.prefix, port, o.origin, o.maxSize, o.sliceBytes));
  const version = await new Promise<string>((resolve) => {
    const v = spawn('nginx', ['-v'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    v.stderr.on('data', (d: Buffer) => {
      text += d;
    });
    v.on('close', () => resolve(text.trim()));
  });
  const child = spawn('nginx', ['-p', o.prefix, '-c', conf], { stdio: 'ignore' });
  await waitForPort(port, child, join(o.prefix, 'error.log'));
  return {
    url: `http://127.0.0.1:${port}`,
    version,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGQUIT');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
