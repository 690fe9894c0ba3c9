// The list of top-level commands. Each module adds its subcommand(s) to the program.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { registerCp } from './cp.ts';
import { registerRm } from './rm.ts';
import { registerZip } from './zip.ts';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export const commandModules: RegisterCommand[] = [registerCp, registerZip, registerRm];
