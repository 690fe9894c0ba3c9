// The dashboard bundle: dashboard/src/main.ts and app.css through esbuild, index.html copied.
// Written aside and renamed, so a server never serves half a bundle.
import { copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function buildDashboard(outDir = join(root, 'dist', 'dashboard')) {
  const { build } = await import('esbuild');
  const tmp = `${outDir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await build({
    entryPoints: {
      app: join(root, 'dashboard/src/main.ts'),
      'app-style': join(root, 'dashboard/src/app.css'),
    },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    outdir: tmp,
    logLevel: 'silent',
  });
  renameSync(join(tmp, 'app-style.css'), join(tmp, 'app.css'));
  copyFileSync(join(root, 'dashboard/index.html'), join(tmp, 'index.html'));
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);
  return outDir;
}
