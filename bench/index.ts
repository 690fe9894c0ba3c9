// `npm run bench [-- SUITE... | --list]`: runs the named suites (default: all that can run here).
// The IO suites start the rig they need from bench/rig/ under a temp directory (or
// $SLUICE_BENCH_DIR) and tear it down; docs/benchmarks.md describes the rig and the figures.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { suites } from './suites/index.ts';

// The suites time `node bin/sluice.js`, which runs dist/ only while it matches the sources: a stale
// build makes every command start through tsx (about 0.3 s and much CPU more), and the figures wrong.
const { freshDistEntry } = createRequire(import.meta.url)('../bin/build-freshness.js') as {
  freshDistEntry(root: string): { entry?: string; stale?: string };
};

const args = process.argv.slice(2);
if (args.includes('--list') || args.includes('--help')) {
  for (const s of suites) console.log(`${s.name.padEnd(16)} ${s.description}`);
  process.exit(0);
}
const names = args.filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !suites.some((s) => s.name === n));
if (unknown.length) {
  console.error(`bench: unknown suite(s) ${unknown.join(', ')}; --list shows them`);
  process.exit(2);
}
const chosen = names.length ? suites.filter((s) => names.includes(s.name)) : suites;
const dist = freshDistEntry(fileURLToPath(new URL('..', import.meta.url)));
if (!dist.entry) {
  console.log(
    `# note: sluice runs from the sources through tsx (${dist.stale}): its start-up is slower than a user's; run \`npm run build\` first`,
  );
}
for (const s of chosen) {
  const why = await s.unavailable?.();
  if (why) {
    console.log(`# ${s.name}: skipped: ${why}`);
    continue;
  }
  console.log(`# ${s.name}: ${s.description}`);
  await s.run(args.filter((a) => a.startsWith('-')));
}
