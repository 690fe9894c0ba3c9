// Requests an emulator process (emulator-process.ts) served, by operation: SIGUSR2 makes it write
// them to a file named after its pid, read back here.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const emulatorRequestsFile = (pid: number) => join(tmpdir(), `sluice-emulator-requests-${pid}.json`);

/** The counts of each process (by its name), or {} for one that did not answer within 2 s. */
export async function emulatorRequests(
  pids: Record<string, number>,
): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = Object.create(null);
  for (const [name, pid] of Object.entries(pids)) {
    const file = emulatorRequestsFile(pid);
    rmSync(file, { force: true });
    try {
      process.kill(pid, 'SIGUSR2');
    } catch {
      continue;
    }
    for (let i = 0; i < 40 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
    try {
      out[name] = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
      rmSync(file, { force: true });
    } catch {
      out[name] = {};
    }
  }
  return out;
}
