// A pure pass-through HTTP proxy (no storage, no parsing beyond HTTP): each request is sent on to
// --target HOST:PORT over keep-alive connections and the answer piped back. The cache benchmark's
// floor: what one more Node hop on the loopback costs against reading the origin directly. Run as
// `pass-proxy.ts --target HOST:PORT`: prints {"port": N} once listening.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const args = process.argv.slice(2);
const i = args.indexOf('--target');
const target = i >= 0 ? args[i + 1] : undefined;
if (!target) throw new Error('usage: pass-proxy.ts --target HOST:PORT');
const [host, port] = target.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  const headers = { ...req.headers, host: target };
  const up = http.request(
    { host, port: Number(port), method: req.method, path: req.url, headers, agent },
    (ans) => {
      res.writeHead(ans.statusCode ?? 502, ans.headers);
      ans.pipe(res);
    },
  );
  up.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`pass-proxy: ${err.message}\n`);
  });
  res.on('close', () => up.destroy());
  req.pipe(up);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
