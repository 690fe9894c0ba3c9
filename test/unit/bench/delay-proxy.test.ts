import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DelayProxy, startDelayProxy } from '../../../bench/rig/delay-proxy.ts';

/** Sends `message` on a new connection and resolves with the reply and the seconds it took. */
function exchange(port: number, message: string): Promise<{ reply: string; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.end(message));
    let reply = '';
    socket.on('data', (c) => {
      reply += c;
    });
    socket.on('end', () => resolve({ reply, seconds: (performance.now() - t0) / 1000 }));
    socket.on('error', reject);
  });
}

describe('delaying TCP proxy (bench rig)', () => {
  let echo: Server;
  let proxy: DelayProxy;

  beforeAll(async () => {
    // Replies once the request has ended, then closes: one request/response exchange.
    echo = createServer({ allowHalfOpen: true }, (s) => {
      let got = '';
      s.on('data', (c) => {
        got += c;
      });
      s.on('end', () => s.end(got.toUpperCase()));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    proxy = await startDelayProxy({
      targetHost: '127.0.0.1',
      targetPort: (echo.address() as AddressInfo).port,
      ms: 100,
    });
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise((r) => echo.close(r));
  });

  it('passes bytes through unchanged and in order', async () => {
    const message = Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join('');
    const { reply } = await exchange(proxy.port, message);
    expect(reply).toBe(message.toUpperCase());
  });

  it('adds one RTT for the connection and one per exchange', async () => {
    const delayed = await exchange(proxy.port, 'ping');
    expect(delayed.reply).toBe('PING');
    // Connection (100 ms), then the request and the reply (50 + 50 ms): at least ~200 ms, however
    // fast the machine (timers may fire up to a millisecond early); the upper bound is loose for load.
    expect(delayed.seconds).toBeGreaterThan(0.19);
    expect(delayed.seconds).toBeLessThan(2);
  });
});
