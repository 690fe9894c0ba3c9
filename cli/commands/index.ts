// The list of top-level commands. Each module adds its subcommand(s) to the program.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { registerFetch } from './fetch.ts';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export const commandModules: RegisterCommand[] = [registerFetch];
