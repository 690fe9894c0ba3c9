// The completion marker of an extraction: `DEST/.sluice-incomplete` exists from before the first
// entry is written until the last one is in place. A tree that still has it is partial (a full
// disk, a lost connection, a killed task) and is never taken for a complete one; the next
// extraction into it (a retry) replaces what the unfinished one left instead of failing with
// "already exists" for ever.
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const INCOMPLETE_MARKER = '.sluice-incomplete';

/** Marks `dest` as being extracted; true when an earlier extraction into it never finished. */
export async function markIncomplete(dest: string, source: string): Promise<boolean> {
  await mkdir(dest, { recursive: true });
  const marker = path.join(dest, INCOMPLETE_MARKER);
  const unfinished = await stat(marker).then(
    (st) => st.isFile(),
    () => false,
  );
  const note = `${JSON.stringify({ source, pid: process.pid, started: new Date().toISOString() })}\n`;
  await writeFile(marker, note, { flush: true });
  return unfinished;
}

export async function clearIncomplete(dest: string): Promise<void> {
  await rm(path.join(dest, INCOMPLETE_MARKER), { force: true });
}
