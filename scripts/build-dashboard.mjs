// Bundles the web dashboard (dashboard/) with esbuild into dist/dashboard/: index.html, app.js,
// app.css. Run by `npm run build` and `prepare`, and by `sluice serve` when the bundle is missing;
// the CDK app runs it with OUT_DIR to put the bundle beside the api function's code.
// Usage: node scripts/build-dashboard.mjs [OUT_DIR]
import { buildDashboard } from './dashboard-bundle.mjs';

try {
  const out = await buildDashboard(...(process.argv[2] ? [process.argv[2]] : []));
  console.log(`sluice: built the dashboard into ${out}`);
} catch (err) {
  console.error(`sluice dashboard build: ${err.message}`);
  process.exit(1);
}
