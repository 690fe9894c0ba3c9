// Bundles the web dashboard (dashboard/) with esbuild into dist/dashboard/: index.html, app.js,
// app.css. Run by `npm run build` and `prepare`, and by `sluice serve` when the bundle is missing.
// Usage: node scripts/build-dashboard.mjs
import { buildDashboard } from './dashboard-bundle.mjs';

try {
  const out = await buildDashboard();
  console.log(`sluice: built the dashboard into ${out}`);
} catch (err) {
  console.error(`sluice dashboard build: ${err.message}`);
  process.exit(1);
}
