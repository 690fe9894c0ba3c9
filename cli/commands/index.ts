// The list of top-level commands. Each module adds its subcommand(s) to the program.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { registerCp } from './cp.ts';
import { registerExec } from './exec.ts';
import { registerFetch } from './fetch.ts';
import { registerPlan } from './plan.ts';
import { registerRm } from './rm.ts';
import { registerRun } from './run.ts';
import { registerServe } from './serve.ts';
import { registerAlgorithm, registerCron, registerPipeline } from './store.ts';
import { registerValidate } from './validate.ts';
import { registerWatch } from './watch.ts';
import { registerZip } from './zip.ts';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export const commandModules: RegisterCommand[] = [
  registerRun,
  registerValidate,
  registerPlan,
  registerExec,
  registerPipeline,
  registerAlgorithm,
  registerCron,
  registerServe,
  registerWatch,
  registerCp,
  registerZip,
  registerRm,
  registerFetch,
];
