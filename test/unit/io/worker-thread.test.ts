// Starting worker threads from this package's modules: the module beside the caller keeps the
// caller's extension (the .ts source, or the .js build), and a compiled module starts directly.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { moduleBeside, startWorkerThread } from '../../../shared/io/worker-thread.ts';

describe('worker threads', () => {
  it("names the module beside the caller with the caller's extension", () => {
    expect(moduleBeside('./x-thread', 'file:///app/shared/io/a.ts').href).toBe(
      'file:///app/shared/io/x-thread.ts',
    );
    expect(moduleBeside('./x-thread', 'file:///app/dist/shared/io/a.js').href).toBe(
      'file:///app/dist/shared/io/x-thread.js',
    );
  });

  it('starts a JavaScript module directly and a TypeScript one through the source bootstrap (compiled, cached)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-worker-thread-'));
    try {
      // The .ts one has types and imports a .ts sibling: what a worker module of this package does.
      await writeFile(path.join(dir, 'package.json'), '{"type": "module"}');
      await writeFile(path.join(dir, 'twice.ts'), 'export const twice = (n: number): number => 2 * n;\n');
      const body = (ext: string) =>
        `import { parentPort, workerData } from 'node:worker_threads';\n${
          ext === 'ts'
            ? "import { twice } from './twice.ts';\nconst n: number = workerData.n;\n"
            : 'const twice = (n) => 2 * n;\nconst n = workerData.n;\n'
        }parentPort.postMessage(twice(n));\n`;
      for (const ext of ['mjs', 'ts']) {
        await writeFile(path.join(dir, `w.${ext}`), body(ext));
        const w = startWorkerThread(pathToFileURL(path.join(dir, `w.${ext}`)), { workerData: { n: 21 } });
        const got = await new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
        expect(got).toBe(42);
        await w.terminate();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
