// Installs the stand-in container runtime (fake-container-runtime.mjs) as `docker` or `podman` in a
// directory to put first on PATH, and reads back what it was asked to do.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STAND_IN = fileURLToPath(new URL('./fake-container-runtime.mjs', import.meta.url));

export interface FakeRuntime {
  /** Put this first on PATH. */
  bin: string;
  /** The environment the stand-in needs (its log and state directory). */
  env: Record<string, string>;
  /** Every argv it was called with, in order. */
  calls(): Promise<string[][]>;
}

export async function installFakeRuntime(dir: string, names: string[] = ['docker']): Promise<FakeRuntime> {
  const bin = join(dir, 'bin');
  const state = join(dir, 'state');
  await mkdir(bin, { recursive: true });
  await mkdir(state, { recursive: true });
  for (const name of names) {
    const script = join(bin, name);
    await writeFile(script, `#!/bin/sh\nexec "${process.execPath}" "${STAND_IN}" "$@"\n`);
    await chmod(script, 0o755);
  }
  const log = join(dir, 'calls.jsonl');
  await writeFile(log, '');
  return {
    bin,
    env: { FAKE_RUNTIME_LOG: log, FAKE_RUNTIME_STATE: state },
    async calls() {
      const text = await readFile(log, 'utf8');
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[]);
    },
  };
}
