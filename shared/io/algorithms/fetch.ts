// The `fetch` algorithm: a pipeline node that downloads (and usually extracts) archives, e.g. to
// preload a dataset onto the shared volume. Input: [{ "url": ..., "dest": ... }, ...]; result: the
// FetchSummary (an array of them when several items are given).
import { ValidationError } from '../../errors.ts';
import type { BuiltinAlgorithm, BuiltinContext } from '../../ports/builtin-algorithm.ts';
import type { FetchSummary } from '../fetch/types.ts';
import { fetchItemOptions } from './fetch-params.ts';

export interface FetchAlgorithmOptions {
  /** Where relative paths resolve (default: the process's working directory, read per task). */
  cwd?: () => string;
}

export function createFetchAlgorithm(options: FetchAlgorithmOptions = {}): BuiltinAlgorithm {
  return {
    name: 'fetch',
    description:
      'download files or archives (http(s)://, s3://) with parallel ranges, extracting tar/tar.gz/tar.lz4',
    ioBound: true,
    async run(input: unknown[], ctx: BuiltinContext): Promise<FetchSummary | FetchSummary[]> {
      if (!Array.isArray(input) || input.length === 0)
        throw new ValidationError(
          'fetch input must be a non-empty array of {"url": ..., "dest": ...}',
          'input',
        );
      const cwd = options.cwd?.() ?? process.cwd();
      const items = input
        .map((item, i) => fetchItemOptions(item, i, cwd)) // validate everything first
        .map((it) => (ctx.cacheUrl ? { ...it, url: throughCache(it.url, ctx.cacheUrl) } : it));
      const results: FetchSummary[] = [];
      for (const it of items) {
        ctx.log(
          `fetch ${it.url} -> ${it.output.kind === 'extract' ? it.output.dest : (it.output as { path: string }).path}`,
        );
        const { fetchArchive } = await import('../fetch/fetch.ts'); // loaded on first use
        const summary = await fetchArchive(
          { ...it, signal: ctx.signal, log: (l) => ctx.log(`warning: ${l}`) },
          { ...(ctx.objectStores ? { objectStores: ctx.objectStores } : {}), cwd },
        );
        ctx.log(`fetched ${summary.bytes} bytes in ${summary.seconds} s: ${summary.files} files`);
        results.push(summary);
      }
      return results.length === 1 ? results[0]! : results;
    },
  };
}

/**
 * An http(s) URL as read through the dataset cache at `cacheUrl` (`/http(s)/HOST[:PORT]/PATH?QUERY`);
 * s3:// URLs go through it by the task's object stores, which already point at the cache.
 */
export function throughCache(url: string, cacheUrl: string): string {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return url;
  return `${cacheUrl.replace(/\/+$/, '')}/${u.protocol.slice(0, -1)}/${u.host}${u.pathname}${u.search}`;
}

export const fetchAlgorithm: BuiltinAlgorithm = createFetchAlgorithm();
