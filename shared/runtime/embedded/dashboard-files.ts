// The web dashboard as `sluice serve` serves it at `/`: the bundle in dist/dashboard, built from
// dashboard/ with esbuild when it is missing or older than its sources (a fresh clone, an edit).
import { existsSync, readdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type DashboardFiles, dashboardAnswer } from '../dashboard-assets.ts';

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
export async function ensureDashboard(): Promise<DashboardFiles> {
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
export function dashboardHandler(where: DashboardFiles) {
  return (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const a = dashboardAnswer(where, url.pathname);
    if (!a) return false;
    res.writeHead(a.status, { ...a.headers, 'content-length': a.body.length });
    res.end(req.method === 'HEAD' ? undefined : a.body);
    return true;
  };
}
