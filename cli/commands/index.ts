// The list of top-level commands. Each entry names the commands a module adds and loads the module
// only when one of them runs (or when the full help is printed): `sluice rm` does not pay for the
// engine, the AWS SDK and the pipeline validator that other commands import (~130 ms of start-up).
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export interface CommandModule {
  /** The top-level command names the module registers. */
  names: readonly string[];
  load(): Promise<RegisterCommand[]>;
}

export const commandModules: readonly CommandModule[] = [
  { names: ['run'], load: async () => [(await import('./run.ts')).registerRun] },
  { names: ['validate'], load: async () => [(await import('./validate.ts')).registerValidate] },
  { names: ['plan'], load: async () => [(await import('./plan.ts')).registerPlan] },
  { names: ['exec'], load: async () => [(await import('./exec.ts')).registerExec] },
  {
    names: ['pipeline', 'algorithm', 'cron', 'store'],
    load: async () => {
      const m = await import('./store.ts');
      return [m.registerPipeline, m.registerAlgorithm, m.registerCron, m.registerStore];
    },
  },
  {
    names: ['serve', 'resume'],
    load: async () => [(await import('./serve.ts')).registerServe],
  },
  { names: ['make'], load: async () => [(await import('./make.ts')).registerMake] },
  { names: ['watch'], load: async () => [(await import('./watch.ts')).registerWatch] },
  { names: ['debug'], load: async () => [(await import('./debug.ts')).registerDebug] },
  { names: ['dashboard'], load: async () => [(await import('./dashboard.ts')).registerDashboard] },
  { names: ['cp'], load: async () => [(await import('./cp.ts')).registerCp] },
  {
    names: ['sync', 'check'],
    load: async () => {
      const m = await import('./sync.ts');
      return [m.registerSync, m.registerCheck];
    },
  },
  { names: ['zip'], load: async () => [(await import('./zip.ts')).registerZip] },
  { names: ['rm'], load: async () => [(await import('./rm.ts')).registerRm] },
  { names: ['fetch'], load: async () => [(await import('./fetch.ts')).registerFetch] },
  { names: ['cache'], load: async () => [(await import('./cache.ts')).registerCache] },
];

/**
 * The modules to load for this command line: only the named command's when the first operand names
 * one, else all of them (no command, `--help`, `help CMD`, an unknown name: commander needs the
 * full list to print help or suggest a spelling).
 */
export function modulesFor(args: readonly string[]): readonly CommandModule[] {
  const first = args.find((a) => !a.startsWith('-'));
  if (first === undefined && args.some((a) => a === '-V' || a === '--version')) return [];
  const named = commandModules.find((m) => first !== undefined && m.names.includes(first));
  return named ? [named] : commandModules;
}
