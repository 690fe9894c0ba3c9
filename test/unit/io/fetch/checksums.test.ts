// fetch verifies what it can while the bytes stream past: the user's --checksum, a response's
// Content-MD5, x-amz-checksum-sha256 and an ETag that is an MD5. A server returning wrong bytes
// for one range is caught, and nothing is kept.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseChecksum } from '../../../../shared/io/fetch/checksum.ts';
import { fetchArchive } from '../../../../shared/io/fetch/fetch.ts';
import {
  honest,
  type MisbehavingServer,
  type RawRequest,
  type RawResponse,
  startMisbehavingServer,
} from '../../../helpers/misbehaving-server.ts';

const KiB = 1024;
const body = randomBytes(512 * KiB);
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const sha256hex = createHash('sha256').update(body).digest('hex');
let work: string;
let server: MisbehavingServer | undefined;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sluice-checksums-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Flips one byte of the range that starts at 128 KiB. */
function corruptOneRange(r: RawResponse, req: RawRequest): RawResponse {
  if (req.range?.start !== 128 * KiB || !r.body) return r;
  const bad = Buffer.from(r.body);
  bad[100] = bad[100]! ^ 0xff;
  return { ...r, body: bad };
}

async function fetchTo(
  answer: (req: RawRequest) => RawResponse,
  extra: Partial<Parameters<typeof fetchArchive>[0]> = {},
) {
  server = await startMisbehavingServer(answer);
  const dir = await mkdtemp(path.join(work, 'run-'));
  const out = path.join(dir, 'out.bin');
  const run = fetchArchive({
    url: `${server.url}/data.bin`,
    output: { kind: 'file', path: out },
    chunkSize: 64 * KiB,
    retries: 1,
    backoffMs: 10,
    ...extra,
  });
  return { run, dir, out };
}

describe('fetch checksums', () => {
  it('--checksum sha256=HEX: verified while streaming; a wrong byte in one range fails, nothing kept', async () => {
    const checksum = parseChecksum(`sha256=${sha256hex}`);
    const bad = await fetchTo((req) => corruptOneRange(honest(body, req), req), { checksum });
    await expect(bad.run).rejects.toThrow(
      new RegExp(
        `sha256 of the download is [0-9a-f]{64}, but --checksum says ${sha256hex}; nothing was kept`,
      ),
    );
    expect(await readdir(bad.dir)).toEqual([]);
    await server!.close();
    const good = await fetchTo((req) => honest(body, req), { checksum });
    await good.run;
    expect((await readFile(good.out)).equals(body)).toBe(true);
  });

  it('Content-MD5 of a range response is checked for that range', async () => {
    const { run, dir } = await fetchTo((req) => {
      const r = honest(body, req);
      r.headers!['content-md5'] = md5(r.body!).toString('base64');
      return corruptOneRange(r, req);
    });
    await expect(run).rejects.toThrow(/md5 of bytes 131072-196607 is [0-9a-f]{32}, but Content-MD5 says/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('an ETag that is an MD5 of the object is checked over the whole download', async () => {
    const etag = `"${md5(body).toString('hex')}"`;
    const { run } = await fetchTo((req) => corruptOneRange(honest(body, req, { etag }), req));
    await expect(run).rejects.toThrow(/md5 of the download is [0-9a-f]{32}, but ETag says/);
    await server!.close();
    const good = await fetchTo((req) => honest(body, req, { etag }));
    await good.run;
    expect((await readFile(good.out)).equals(body)).toBe(true);
  });

  it('x-amz-checksum-sha256 from a server without ranges is checked too', async () => {
    const sum = createHash('sha256').update(body).digest('base64');
    const { run } = await fetchTo((req) => {
      const r = honest(body, { ...req, range: undefined }, { 'x-amz-checksum-sha256': sum });
      if (req.n > 0)
        r.body = Buffer.concat([r.body!.subarray(0, 1000), Buffer.alloc(1), r.body!.subarray(1001)]);
      return r;
    });
    await expect(run).rejects.toThrow(/sha256 of the download .* but x-amz-checksum-sha256 says/);
  });

  it('--checksum is parsed strictly, with a one-line error', () => {
    expect(() => parseChecksum('sha256=abc')).toThrow(/a sha256 is 64 hex digits \(got 3\)/);
    expect(() => parseChecksum('crc99=00')).toThrow(/ALGORITHM one of md5, sha1, sha256, sha512/);
    expect(parseChecksum(`SHA256:${sha256hex.toUpperCase()}`.replace('SHA256', 'sha256')).hex).toBe(
      sha256hex,
    );
  });
});
