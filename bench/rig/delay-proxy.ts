// A TCP proxy that adds a round-trip time, for an S3 emulator on 127.0.0.1 that should feel like
// an endpoint some milliseconds away (this kernel may have no netem, and netem needs root). Each
// direction holds every chunk for half the RTT, in order, so a request/response exchange costs
// one RTT and a stream keeps its throughput; a new connection costs one RTT before its first
// byte (the TCP handshake). Run as `delay-proxy.ts --target HOST:PORT [--ms 20] [--port 0]`:
// prints {"port": N} once listening.
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface DelayProxyOptions {
  targetHost: string;
  targetPort: number;
  /** Round-trip time added to every exchange, in milliseconds. */
  ms: number;
  port?: number;
}

export interface DelayProxy {
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Forwards `from` to `to`, each chunk `delayMs` later, in order; at most ~8 MiB held. */
function delayedPipe(from: Socket, to: Socket, delayMs: number): void {
  const queue: { at: number; chunk: Buffer | null }[] = [];
  let held = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const now = performance.now();
    while (queue.length && queue[0]!.at <= now) {
      const { chunk } = queue.shift()!;
      if (chunk === null) {
        to.end();
        return;
      }
      held -= chunk.length;
      to.write(chunk);
    }
    if (queue.length) {
      scheduled = true;
      setTimeout(flush, queue[0]!.at - now);
    }
    if (held < 4 << 20 && !to.writableNeedDrain) from.resume();
  };
  const push = (chunk: Buffer | null) => {
    queue.push({ at: performance.now() + delayMs, chunk });
    if (chunk) held += chunk.length;
    if (held > 8 << 20) from.pause();
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, delayMs);
    }
  };
  from.on('data', (chunk: Buffer) => push(chunk));
  from.on('end', () => push(null));
  to.on('drain', () => {
    if (held < 4 << 20) from.resume();
  });
}

export async function startDelayProxy(o: DelayProxyOptions): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    sockets.add(client);
    client.setNoDelay(true);
    client.on('close', () => sockets.delete(client));
    setTimeout(() => {
      if (client.destroyed) return;
      const upstream = connect({
        host: o.targetHost,
        port: o.targetPort,
        noDelay: true,
        allowHalfOpen: true,
      });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      const fail = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', fail);
      upstream.on('error', fail);
      // Each side ends the other after its queued bytes (delayedPipe); only errors cut both.
      upstream.once('connect', () => {
        delayedPipe(client, upstream, o.ms / 2);
        delayedPipe(upstream, client, o.ms / 2);
        client.resume();
      });
    }, o.ms);
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function flag(args: string[], name: string, fallback?: string): string {
  const i = args.indexOf(name);
  const value = i >= 0 ? args[i + 1] : fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const [host, port] = flag(args, '--target').split(':');
  const p = await startDelayProxy({
    targetHost: host!,
    targetPort: Number(port),
    ms: Number(flag(args, '--ms', '20')),
    port: Number(flag(args, '--port', '0')),
  });
  process.stdout.write(`${JSON.stringify({ port: p.port })}\n`);
  process.on('SIGTERM', () => void p.close().then(() => process.exit(0)));
}
