// What the store commands share: the --endpoint and --json options and a client per command.
import type { Command } from 'commander';
import { connect, type SluiceClient } from '../connection.ts';
import type { CliContext } from '../context.ts';

export interface Common {
  endpoint?: string;
  json?: boolean;
}

export async function withClient(ctx: CliContext, o: Common, fn: (c: SluiceClient) => Promise<void>) {
  const client = await connect(ctx, o.endpoint ? { endpoint: o.endpoint } : {});
  try {
    await fn(client);
  } finally {
    await client.close();
  }
}

export const common = (c: Command) =>
  c
    .option('--endpoint <url>', 'Sluice API URL (default: $SLUICE_ENDPOINT or this machine)')
    .option('--json', 'print JSON');
