// The V8 flags bin/sluice.js applies (bin/v8-flags.js) must exist in the V8 of every Node.js major
// they are applied on: an unknown flag makes V8 print an error line at every start.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO } from '../../helpers/process.ts';

const exec = promisify(execFile);
const flags = createRequire(import.meta.url)(join(REPO, 'bin', 'v8-flags.js')) as {
  V8_FLAGS: string[];
  CHECKED_MAJORS: number[];
};

describe('bin/v8-flags.js', () => {
  it('applies on this Node.js without a word from V8 (or not at all on an unchecked major)', async () => {
    const script = `process.stdout.write(String(require(${JSON.stringify(join(REPO, 'bin', 'v8-flags.js'))}).applyV8Flags()))`;
    const { stdout, stderr } = await exec(process.execPath, ['-e', script]);
    const major = Number(process.versions.node.split('.')[0]);
    expect(stdout).toBe(String(flags.CHECKED_MAJORS.includes(major)));
    expect(stderr).toBe('');
  });

  it('names flags this V8 knows', async () => {
    const { stderr } = await exec(process.execPath, [...flags.V8_FLAGS, '-e', '0']);
    expect(stderr).toBe('');
  });
});
