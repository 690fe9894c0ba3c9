// V8 settings every `sluice` command runs with (bin/sluice.js applies them first thing; the bench's
// engine-alone child too, to measure what the command runs).
//
// --ticks-before-optimization=100 (V8's default: 3): a function must stay hot ~33 times longer
// before the optimizing compiler (TurboFan) takes it. A short command spent ~0.5 s of CPU on
// TurboFan's threads compiling ~300 functions it then barely ran: on 2 cores that CPU is taken from
// make and the recipes. Measured with `sluice make` (docs/make.md, stop 28): a 2,000-recipe build
// used 7% less CPU and took 4% less time; a 10,000-recipe build was unchanged. The functions that
// stay hot are still optimized, later; a long-running `sluice serve` is not slowed.
//
// Applied only on the Node.js majors where the flag was checked (test/unit/bin/v8-flags.test.ts):
// an unknown flag makes V8 print an error line on every start.
const V8_FLAGS = ['--ticks-before-optimization=100'];
const CHECKED_MAJORS = [20, 22];

function applyV8Flags() {
  const major = Number(process.versions.node.split('.')[0]);
  if (!CHECKED_MAJORS.includes(major)) return false;
  const v8 = require('node:v8');
  for (const flag of V8_FLAGS) v8.setFlagsFromString(flag);
  return true;
}

module.exports = { V8_FLAGS, CHECKED_MAJORS, applyV8Flags };
