// The dashboard's files as an answer to a GET: name, type and headers, shared by the HTTP shells
// that serve it (`sluice serve`'s node:http, the AWS api function behind API Gateway).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the bundle is (dist/dashboard, or next to the api function's code), or why there is none. */
export type DashboardFiles = { dir: string } | { missing: string };

const TYPES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

export interface DashboardAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * The answer to `GET pathname` (`/` is the page), or undefined when the path is not one of the
 * dashboard's files (the caller answers 404). The page fetches everything relative to itself, so
 * it works under a path prefix (API Gateway's stage, `/prod/`) as at `/`.
 */
export function dashboardAnswer(files: DashboardFiles, pathname: string): DashboardAnswer | undefined {
  const name = pathname === '/' ? 'index.html' : pathname.slice(1);
  const type = TYPES[name];
  if (!type) return undefined;
  if ('missing' in files) {
    return {
      status: 503,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: Buffer.from(`Sluice dashboard unavailable: ${files.missing}\n`),
    };
  }
  return {
    status: 200,
    headers: {
      'content-type': type,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy':
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'",
    },
    body: readFileSync(join(files.dir, name)),
  };
}

/** The bundle in `dir` if it is there (a deployment built without it says so instead of failing). */
export function dashboardIn(dir: string): DashboardFiles {
  return existsSync(join(dir, 'index.html'))
    ? { dir }
    : {
        missing: 'the dashboard bundle was not deployed with this API; run `npm run build` and deploy again',
      };
}
