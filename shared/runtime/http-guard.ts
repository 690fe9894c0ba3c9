// Who may talk to a local API server (`sluice serve`, the engine of `sluice run`): the checks run
// before any route, as pure functions of the request's headers. A web page in the user's browser
// can reach 127.0.0.1 too, so: a secret token (the `Authorization: Bearer` header no page can
// send without knowing it), JSON bodies only (a form or `text/plain` POST needs no CORS
// preflight), no foreign `Origin`, and — when bound to loopback — no foreign `Host` (DNS
// rebinding points a page's own name at 127.0.0.1).
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { routes } from '../api/route-table.ts';
import '../api/routes/index.ts';
import { sameToken } from './api-token.ts';

export interface HttpGuardOptions {
  /** The API token; undefined serves without one (`--no-auth`). */
  token?: string;
  /** The address the server is bound to; a loopback one answers only local Host names. */
  boundHost: string;
  /** The prefix of the routes that need the token and JSON bodies (others only Host and Origin). */
  apiPrefix: string;
}

export interface GuardRefusal {
  status: number;
  type: string;
  message: string;
}

/** 127.0.0.0/8, ::1, localhost: names only this machine answers to. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice(7));
  return isIP(h) === 4 && h.startsWith('127.');
}

/** The host name of a Host header value (`name:port`, `[v6]:port`). */
function hostName(hostHeader: string): string {
  const m = /^\[([^\]]*)\](?::\d*)?$/.exec(hostHeader);
  if (m) return m[1] as string;
  return hostHeader.replace(/:\d*$/, '');
}

const JSON_MEDIA = /^application\/(?:[\w.+-]+\+)?json$/;

function takesMultipart(url: string | undefined, apiPrefix: string): boolean {
  const path = new URL(url ?? '/', 'http://localhost').pathname;
  if (!path.startsWith(apiPrefix)) return false;
  const rest = path.slice(apiPrefix.length);
  return routes().some((r) => r.bodyMediaType === 'multipart/form-data' && r.pattern.test(rest));
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding']) return true;
  const len = Number(headers['content-length'] ?? 0);
  return Number.isFinite(len) && len > 0;
}

export function checkRequest(
  req: { url?: string | undefined; headers: IncomingHttpHeaders },
  opts: HttpGuardOptions,
): GuardRefusal | undefined {
  const host = req.headers.host;
  if (host !== undefined && isLoopbackHost(opts.boundHost) && !isLoopbackHost(hostName(host))) {
    return {
      status: 403,
      type: 'FORBIDDEN_HOST',
      message: `Host "${host}" is not this machine: an API bound to ${opts.boundHost} answers only localhost, 127.0.0.1 or [::1] (a web page may be trying DNS rebinding); serve other names with --host`,
    };
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = origin === 'null' ? undefined : new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (!originHost || host === undefined || originHost.toLowerCase() !== host.toLowerCase()) {
      return {
        status: 403,
        type: 'FORBIDDEN_ORIGIN',
        message: `requests from the web page at ${origin} are refused: this API answers only its own dashboard`,
      };
    }
  }
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path !== opts.apiPrefix && !path.startsWith(`${opts.apiPrefix}/`)) return undefined;
  if (opts.token !== undefined) {
    const auth = req.headers.authorization;
    const m = auth === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m) {
      return {
        status: 401,
        type: 'UNAUTHORIZED',
        message:
          'this API needs its token: send "Authorization: Bearer <token>" with the token in $SLUICE_HOME/api-token (the sluice CLI sends it; `sluice serve` prints a dashboard link with it)',
      };
    }
    if (!sameToken(m[1] as string, opts.token)) {
      return {
        status: 401,
        type: 'UNAUTHORIZED',
        message: 'the API token is wrong: use the one in $SLUICE_HOME/api-token of the serving engine',
      };
    }
  }
  if (hasBody(req.headers)) {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    // multipart/form-data only where a route takes it (the code upload). A browser may send it
    // cross-site without a preflight: the token and Origin checks above still apply.
    const form = type === 'multipart/form-data' && takesMultipart(req.url, opts.apiPrefix);
    if (!JSON_MEDIA.test(type) && !form) {
      return {
        status: 415,
        type: 'UNSUPPORTED_MEDIA_TYPE',
        message: `request bodies must be JSON (Content-Type: application/json), not ${type ? `"${type}"` : 'untyped'}`,
      };
    }
  }
  return undefined;
}
