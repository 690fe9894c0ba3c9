import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OriginUnreachableError } from '../../../shared/cache/errors.ts';
import { OriginClient } from '../../../shared/cache/origin-client.ts';
import { newStats } from '../../../shared/cache/types.ts';

/**
 * An origin that answers the first request on each connection (keep-alive) and resets the
 * connection on the second, as an origin does that closes an idle kept-alive connection just as
 * the client reuses it.
 */
async function resettingOrigin(): Promise<{ url: string; server: Server; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    connections++;
    sockets.add(s);
    let requests = 0;
    s.on('data', (d) => {
      if (!d.includes('\r\n\r\n')) return;
      if (++requests === 1)
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
      else s.resetAndDestroy();
    });
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`,
    server,
    connections: () => connections,
  };
}

async function body(res: import('node:http').IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of res) s += c;
  return s;
}

describe('OriginClient', () => {
  let close: (() => void)[] = [];
  afterEach(() => {
    for (const c of close) c();
    close = [];
  });

  it('sends a GET again when a reused kept-alive connection is reset before any answer', async () => {
    const o = await resettingOrigin();
    const stats = newStats();
    const client = new OriginClient(stats);
    close.push(
      () => client.close(),
      () => o.server.close(),
    );
    const first = await client.send('GET', { url: o.url, headers: {} }, 'origin');
    expect(await body(first)).toBe('ok');
    const second = await client.send('GET', { url: o.url, headers: {} }, 'origin');
    expect(second.statusCode).toBe(200);
    expect(await body(second)).toBe('ok');
    expect(o.connections()).toBe(2);
  });

  it('sends it again on a new connection, not on another idle one that may be as stale', async () => {
    const o = await resettingOrigin();
    const client = new OriginClient(newStats());
    close.push(
      () => client.close(),
      () => o.server.close(),
    );
    // Two idle kept-alive connections, both of which the origin resets when reused.
    const two = await Promise.all(
      [1, 2].map(() => client.send('GET', { url: o.url, headers: {} }, 'origin')),
    );
    for (const r of two) expect(await body(r)).toBe('ok');
    const again = await client.send('GET', { url: o.url, headers: {} }, 'origin');
    expect(await body(again)).toBe('ok');
    expect(o.connections()).toBe(3);
  });

  it('does not replay a write: the reset is an unreachable origin', async () => {
    const o = await resettingOrigin();
    const client = new OriginClient(newStats());
    close.push(
      () => client.close(),
      () => o.server.close(),
    );
    await body(await client.send('GET', { url: o.url, headers: {} }, 'origin'));
    await expect(client.send('DELETE', { url: o.url, headers: {} }, 'origin')).rejects.toBeInstanceOf(
      OriginUnreachableError,
    );
  });
});
