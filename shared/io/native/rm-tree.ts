// Runs the compiled tree remover (rm-tree-source.ts) on local directories and turns its records
// into the same tally the JS walker keeps: counts, the progress line, one failure per item.
import { spawn } from 'node:child_process';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';
import type { IoTally } from '../failures.ts';
import { compiledHelper } from './compiled-helper.ts';
import { RM_TREE_C } from './rm-tree-source.ts';

let built: Promise<string | undefined> | undefined;

/**
 * The helper's path, compiled at the first call of the process (and cached across runs); undefined
 * where it cannot be had (not Linux, no C compiler): rm then walks in JS.
 */
export function rmTreeHelper(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (process.platform !== 'linux') return Promise.resolve(undefined);
  built ??= compiledHelper('rm-tree', RM_TREE_C, env).catch(() => undefined);
  return built;
}

/** A failure record as the Node error the JS walker would have reported. */
function systemError(errno: number, path: string): NodeJS.ErrnoException {
  let code = `E${errno}`;
  let reason = `error ${errno}`;
  try {
    code = getSystemErrorName(-errno);
    reason = getSystemErrorMap().get(-errno)?.[1] ?? reason;
  } catch {
    /* an errno Node does not know: keep the number */
  }
  return Object.assign(new Error(`${code}: ${reason}`), { code, errno: -errno, path });
}

/** Removes the directories `roots` (each seen as a directory by lstat) with the helper at `bin`. */
export async function removeTreesNative(
  bin: string,
  roots: string[],
  tally: IoTally,
  signal?: AbortSignal,
): Promise<void> {
  const child = spawn(bin, roots, { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
  const seen = { files: 0, links: 0, dirs: 0, found: 0 };
  let buf: Buffer = Buffer.alloc(0);
  let stderr = '';
  const take = () => {
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) return;
      const [kind, ...nums] = buf.subarray(0, nl).toString('latin1').split(' ');
      const n = nums.map(Number);
      if (kind === 'P') {
        const [files = 0, links = 0, dirs = 0, found = 0] = n;
        tally.found(found - seen.found);
        for (; seen.files < files; seen.files++) tally.fileDone(0);
        tally.symlinks += links - seen.links;
        tally.directories += dirs - seen.dirs;
        Object.assign(seen, { links, dirs, found });
        buf = buf.subarray(nl + 1);
      } else if (kind === 'F') {
        const [errno = 0, len = 0] = n;
        if (buf.length < nl + 1 + len) return; // the path is still on its way
        const path = buf.subarray(nl + 1, nl + 1 + len).toString('utf8');
        tally.fail(path, systemError(errno, path));
        buf = buf.subarray(nl + 1 + len);
      } else throw new Error(`rm-tree: unexpected output ${JSON.stringify(kind)}`);
    }
  };
  child.stdout.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    take();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  if (code !== 0)
    throw new Error(
      `rm-tree helper ${killedBy ? `killed by ${killedBy}` : `exited with ${code}`}${stderr ? `: ${stderr.trim().split('\n')[0]}` : ''}`,
    );
}
