// How many libuv threads a command line needs. bin/sluice.js asks before anything starts the
// threadpool (libuv sizes it once, at first use; it loads this file from dist/ with a synchronous
// require, which does not touch the pool). Each thread costs ~60 µs to start on a small VM, so
// 256 of them are ~15 ms that only commands with many file calls in flight earn back.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { NETWORK_VOLUME_THREADS } from '../shared/io/constants.ts';
import { allOnLocalDisk } from '../shared/io/local-fs.ts';
import { isS3Url } from '../shared/io/s3-url.ts';

/** -j file calls in flight on a network volume, each holding a thread while it waits. */
export const MANY_THREADS = NETWORK_VOLUME_THREADS;
/**
 * A local disk (local-fs.ts, direct mode): one thread per core. Handing a call to an idle thread
 * wakes it, which costs the submitting thread ~30 µs in a VM (a futex wake is an inter-processor
 * interrupt); with more calls in flight than threads, the threads stay busy and a submission
 * costs ~5 µs. Measured on 2 cores, 2,000 copyFile calls 16 in flight: 8 threads 98 ms (50 ms of
 * it submitting on the main thread), 2 threads 98 ms (10 ms submitting).
 */
export const FEW_THREADS = Math.min(8, Math.max(2, availableParallelism()));

const IO_COMMANDS = new Set(['cp', 'zip', 'rm']);
/** Commands that run fetch, or pipelines whose built-ins may copy over network volumes. */
const HOSTS_IO = new Set(['fetch', 'run', 'serve', 'resume']);
/** Options of cp/zip/rm that take a value (its own argument unless given as --opt=value). */
const VALUE_OPTIONS = new Set(['-j', '--jobs', '--max-memory', '--volume', '--root']);

/** The threadpool size for `args` (the operands after `node sluice`), or undefined for libuv's default. */
export function threadpoolSize(args: readonly string[], cwd = process.cwd()): number | undefined {
  const at = args.findIndex((a) => !a.startsWith('-'));
  const command = args[at];
  if (command === undefined) return undefined;
  if (HOSTS_IO.has(command)) return MANY_THREADS;
  if (!IO_COMMANDS.has(command)) return undefined;
  const operands: string[] = [];
  let volume: string | undefined;
  for (let i = at + 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (VALUE_OPTIONS.has(name)) {
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (name === '--volume') volume = value;
    } else if (!a.startsWith('-')) operands.push(a);
  }
  if (volume === 'local') return FEW_THREADS;
  if (volume === 'network' || operands.length === 0 || operands.some(isS3Url)) return MANY_THREADS;
  // Anything not recognised (a mistyped option value taken for a path, say) must also be local.
  return allOnLocalDisk(operands.map((o) => resolve(cwd, o))) ? FEW_THREADS : MANY_THREADS;
}
