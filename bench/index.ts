// `npm run bench [-- SUITE... | --list]`: runs the named suites (default: all that can run here).
// The IO suites start the rig they need from bench/rig/ under a temp directory (or
// $SLUICE_BENCH_DIR) and tear it down; docs/benchmarks.md describes the rig and the figures.
import { suites } from './suites/index.ts';

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
for (const s of chosen) {
  const why = await s.unavailable?.();
  if (why) {
    console.log(`# ${s.name}: skipped: ${why}`);
    continue;
  }
  console.log(`# ${s.name}: ${s.description}`);
  await s.run(args.filter((a) => a.startsWith('-')));
}
