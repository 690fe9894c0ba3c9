// What a request to the cache addresses, from its method and URL alone: the control endpoints
// (/-/stats, /-/clear), an HTTP(S) origin (/http/{host[:port]}/{path}, /https/...), or S3 in path
// style (/{bucket}/{key}). Pure parsing; origins.ts turns a route into requests to the origin.

export type Route =
  | { kind: 'control'; name: 'stats' | 'clear' }
  | {
      kind: 'http';
      /** The origin's URL (path and query as the reader sent them). */
      url: string;
      /** scheme://host[:port], named in errors. */
      origin: string;
    }
  | {
      kind: 's3';
      bucket: string;
      /** '' for the bucket itself; '' bucket for the service (ListBuckets). */
      key: string;
      /** Decoded query parameters, minus a presigned URL's signature (the cache signs anew). */
      query: [string, string][];
      /**
       * True for a GET/HEAD of one object's bytes that the cache keys as a version: no query but
       * the SDK's `x-id` marker and `versionId`.
       */
      cacheable: boolean;
    }
  | { kind: 'invalid'; message: string };

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
/** Query parameters of a presigned URL (the reader's signature, not valid for the origin). */
const PRESIGN = /^x-amz-(algorithm|credential|date|expires|signedheaders|signature|security-token)$/i;
/** Query parameters that do not change which bytes a GET returns. */
const NEUTRAL = new Set(['x-id']);

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

export function parseRoute(method: string, rawUrl: string): Route {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const search = q < 0 ? '' : rawUrl.slice(q + 1);
  if (path === '/-/stats') return { kind: 'control', name: 'stats' };
  if (path === '/-/clear') return { kind: 'control', name: 'clear' };
  if (!path.startsWith('/')) return { kind: 'invalid', message: `bad request target ${rawUrl}` };

  const http = /^\/(https?)\/([^/?]*)(\/[^?]*)?$/.exec(path);
  if (http) {
    const [, scheme, host = '', rest = '/'] = http;
    if (!HOST.test(host)) return { kind: 'invalid', message: `bad origin host "${host}" in ${path}` };
    const origin = `${scheme}://${host.toLowerCase()}`;
    return { kind: 'http', origin, url: `${origin}${rest}${search ? `?${search}` : ''}` };
  }

  const slash = path.indexOf('/', 1);
  const bucket = decode(slash < 0 ? path.slice(1) : path.slice(1, slash));
  const key = decode(slash < 0 ? '' : path.slice(slash + 1));
  if (bucket === undefined || key === undefined) return { kind: 'invalid', message: `bad escape in ${path}` };
  const query = [...new URLSearchParams(search)].filter(([k]) => !PRESIGN.test(k));
  const cacheable =
    (method === 'GET' || method === 'HEAD') &&
    bucket !== '' &&
    key !== '' &&
    query.every(([k]) => NEUTRAL.has(k) || k === 'versionId');
  return { kind: 's3', bucket, key, query, cacheable };
}
