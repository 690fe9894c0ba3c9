// The web dashboard as `sluice serve` serves it at `/`: the bundle in dist/dashboard, built from
// dashboard/ with esbuild when it is missing or older than its sources (a fresh clone, an edit).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** The checkout this module runs from (sources or dist/): the folder with dashboard/index.html. */
function repoRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'dashboard', 'index.html')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the bundle if needed; returns its folder, or why there is none. */
export async function ensureDashboard(): Promise<{ dir: string } | { missing: string }> {
  const root = repoRoot();
  if (!root) return { missing: 'the dashboard sources are not in this installation' };
  const dir = join(root, 'dist', 'dashboard');
  const bundle = join(dir, 'app.js');
  const stale =
    !existsSync(bundle) ||
    statSync(bundle).mtimeMs < newestMtime(join(root, 'dashboard')) ||
    statSync(bundle).mtimeMs < statSync(join(root, 'shared', 'api', 'sse-reader.ts')).mtimeMs;
  if (!stale) return { dir };
  try {
    const mod = (await import(pathToFileURL(join(root, 'scripts', 'dashboard-bundle.mjs')).href)) as {
      buildDashboard(out: string): Promise<string>;
    };
    await mod.buildDashboard(dir);
    return { dir };
  } catch (err) {
    if (existsSync(bundle)) return { dir }; // an older bundle beats none
    return { missing: `the dashboard could not be built (${(err as Error).message}); run \`npm run build\`` };
  }
}

/** Answers GET / and the bundle's files; anything else is left to the API server (404). */
export function dashboardHandler(where: { dir: string } | { missing: string }) {
  return (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    const type = TYPES[name];
    if (!type) return false;
    if ('missing' in where) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`Sluice dashboard unavailable: ${where.missing}\n`);
      return true;
    }
    const body = readFileSync(join(where.dir, name));
    res.writeHead(200, {
      'content-type': type,
      'content-length': body.length,
      'cache-control': name === 'index.html' ? 'no-cache' : 'no-cache, max-age=0',
      'x-content-type-options': 'nosniff',
      'content-security-policy':
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'",
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
