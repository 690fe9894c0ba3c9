// HKube's code API on the embedded engine (SQLite, the local worker pool with one slot), served
// as `sluice serve` does, so the CLI's view of the children is checked too.
import { join } from 'node:path';
import { EngineHost } from '../../shared/runtime/embedded/engine-host.ts';
import { defineCodeApiSuite } from './code-api.ts';

defineCodeApiSuite('the embedded engine', async (dir) => {
  const home = join(dir, 'home');
  const host = await EngineHost.start({ home, port: 0, workers: 1 });
  return {
    coordinator: host.engine.coordinator,
    cliEnv: { SLUICE_HOME: home },
    close: () => host.close(),
  };
});
