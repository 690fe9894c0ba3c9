// The readers of the cache benchmark: the same Node fetch loop for every server (the origin, the
// Sluice cache, nginx), so differences are the servers'. Bodies are consumed and discarded.

export interface Pass {
  seconds: number;
  bytes: number;
}

async function drain(res: Response, url: string): Promise<number> {
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${(await res.text()).slice(0, 300).trim()}`);
  let n = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) n += chunk.length;
  return n;
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Requests that failed before any answer and were sent again (see get()). */
export const retried = { count: 0 };

/**
 * fetch(), sent once more when it fails before any answer: on a machine this loaded (s3rver closes
 * kept-alive connections after 5 s idle, seen by the client one delay later) a reused connection
 * can be closed under the request. Counted in `retried`; an answer with an error status is not
 * retried.
 */
async function get(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    retried.count++;
    return fetch(url, init);
  }
}

/** Reads every URL whole, `concurrency` at a time. */
export async function readUrls(urls: string[], concurrency: number): Promise<Pass> {
  const t0 = performance.now();
  let bytes = 0;
  await pool(urls, concurrency, async (url) => {
    bytes += await drain(await get(url), url);
  });
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

/** Reads each range, `concurrency` at a time; the latency of each in ms. */
export async function readRanges(
  ranges: { url: string; start: number; length: number }[],
  concurrency: number,
): Promise<Pass & { latencies: number[] }> {
  const t0 = performance.now();
  let bytes = 0;
  const latencies: number[] = [];
  await pool(ranges, concurrency, async ({ url, start, length }) => {
    const t = performance.now();
    const res = await get(url, { headers: { range: `bytes=${start}-${start + length - 1}` } });
    const n = await drain(res, url);
    if (n !== length) throw new Error(`${url}: ${n} bytes for a ${length}-byte range`);
    bytes += n;
    latencies.push(performance.now() - t);
  });
  return { seconds: (performance.now() - t0) / 1000, bytes, latencies };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
