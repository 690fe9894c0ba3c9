// Code upload and algorithm versions on the embedded backend: a `sluice serve` engine with its
// real worker pool (uploaded code is fetched from its blob directory), driven over HTTP and by
// the CLI with --endpoint (algorithm-versions-scenario.ts); and what the upload refuses.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultipartForm } from '../../shared/api/multipart.ts';
import { handleApi } from '../../shared/api/router.ts';
import { EngineHost } from '../../shared/runtime/embedded/engine-host.ts';
import { runCli } from '../helpers/cli.ts';
import { largeArchiveScenario, VersionsClient, versionsScenario } from './algorithm-versions-scenario.ts';

let host: EngineHost;
let home: string;
let client: VersionsClient;
const target = () => ({
  url: host.url,
  headers: { authorization: `Bearer ${host.token}` },
  env: { SLUICE_API_TOKEN: host.token as string, SLUICE_HOME: join(home, 'client-home') },
});

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sluice-versions-'));
  host = await EngineHost.start({ home: join(home, 'server'), port: 0, workers: 2 });
  client = new VersionsClient(target());
});
afterAll(async () => {
  await host?.close();
  rmSync(home, { recursive: true, force: true });
});

it('uploads code, runs it, applies v2, restores v1; each job runs the version it recorded', async () => {
  await versionsScenario(target());
}, 90_000);

it('a large archive goes in the form (this API has no separate upload: 501)', async () => {
  await largeArchiveScenario(target(), false);
}, 60_000);

/** A tar entry's header (ustar), enough to build hostile archives by hand. */
function tarHeader(name: string, type: string, size: number, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write(linkname, 157, 100);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}
const tarOf = (...entries: Buffer[]) => gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));

function form(payload: unknown, file?: { name: string; data: Buffer }): FormData {
  const f = new FormData();
  f.set('payload', typeof payload === 'string' ? payload : JSON.stringify(payload));
  if (file) f.set('file', new Blob([file.data]), file.name);
  return f;
}

describe('the upload refuses', () => {
  const def = { name: 'hostile', env: 'nodejs', entryPoint: 'index.js' };
  const refused = async (f: FormData, status: number, message: RegExp) => {
    await client.call('GET', '/store/algorithms'); // loads the OpenAPI document first
    const r = await client.upload(f);
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body.error.message).toMatch(message);
  };
  it('entries that leave the archive, links that lead out, device files', async () => {
    await refused(form(def, { name: 'a.tgz', data: tarOf(tarHeader('../evil.js', '0', 0)) }), 400, /outside/);
    await refused(form(def, { name: 'a.tgz', data: tarOf(tarHeader('/etc/x', '0', 0)) }), 400, /outside/);
    await refused(
      form(def, { name: 'a.tgz', data: tarOf(tarHeader('l', '2', 0, '../../etc')) }),
      400,
      /outside/,
    );
    await refused(
      form(def, { name: 'a.tgz', data: tarOf(tarHeader('dev', '3', 0)) }),
      400,
      /unsupported type/,
    );
  });
  it('what is not a tar archive, a bad definition, a missing payload, and JSON bodies (415)', async () => {
    await refused(form(def, { name: 'a.zip', data: Buffer.from('PK\x03\x04 not tar') }), 400, /\.tar\.gz/);
    await refused(form({ ...def, env: 'cobol' }, { name: 'a.tgz', data: tarOf() }), 400, /env/);
    await refused(form('{not json'), 400, /payload.*not valid JSON/);
    const noPayload = new FormData();
    noPayload.set('file', new Blob([tarOf()]), 'a.tgz');
    await refused(noPayload, 400, /"payload" is required/);
    const json = await client.call('POST', '/store/algorithms/apply', def);
    expect(json.status).toBe(415);
    // Nothing of the refused uploads was stored.
    expect((await client.call('GET', '/store/algorithms/hostile')).status).toBe(404);
  });
  it('an archive over the size cap (413)', async () => {
    // Handed to the router as the HTTP shell would (a 51 MiB request over a socket is slow and
    // flaky on a loaded machine; the shell's own 64 MiB limit is tested in api-limits.test.ts).
    const big = Buffer.alloc(51 * 1024 * 1024, 1);
    big[0] = 0x1f;
    big[1] = 0x8b;
    const body = new MultipartForm(big.length);
    body.fields.payload = JSON.stringify(def);
    body.files.file = { filename: 'big.tgz', data: big };
    const r = await handleApi(host.service, {
      method: 'POST',
      path: '/store/algorithms/apply',
      query: {},
      body,
    });
    expect(r.status).toBe(413);
    expect((r.body as { error: { message: string } }).error.message).toMatch(/big\.tgz.*at most 50 MiB/);
  });
});

it('the CLI explains a 413 from a proxy in front (API Gateway words), naming the archive size', async () => {
  const proxy = createServer((req, res) => {
    req.resume();
    res.writeHead(413, { 'content-type': 'application/json' });
    res.end('{"message":"Request Too Long"}');
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const dir = join(home, 'big-client');
  mkdirSync(join(dir, 'code'), { recursive: true });
  writeFileSync(join(dir, 'code', 'index.js'), 'module.exports.start = () => 1;\n');
  writeFileSync(join(dir, 'def.yml'), 'name: big\nenv: nodejs\ncodePath: ./code\nentryPoint: index.js\n');
  try {
    const port = (proxy.address() as { port: number }).port;
    const r = await runCli(
      ['algorithm', 'apply', '-f', join(dir, 'def.yml'), '--endpoint', `http://127.0.0.1:${port}`],
      {
        env: { SLUICE_API_TOKEN: 'x', SLUICE_HOME: join(home, 'client-home') },
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /code archive of .*code is 0\.0 MiB, more than http:\/\/127\.0\.0\.1:\d+ accepts/,
    );
  } finally {
    proxy.close();
  }
});
