// HKube's code API on the embedded engine (SQLite, the local worker pool with one slot).
import { join } from 'node:path';
import { LocalEngine } from '../../shared/runtime/embedded/local-engine.ts';
import { defineCodeApiSuite } from './code-api.ts';

defineCodeApiSuite('the embedded engine', async (dir) => {
  const engine = await LocalEngine.open({ home: join(dir, 'home'), workers: 1 });
  return { coordinator: engine.coordinator, close: () => engine.close() };
});
