// A process that races for an engine lock (test/unit/runtime/embedded/engine-lock.test.ts): opens
// the home's database, waits for the start file, takes the lock, prints `won` or `lost <message>`,
// and stays alive (holding what it won) until the end file appears.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileBlobStore } from '../../shared/adapters/local/file-blob-store.ts';
import { SqliteDatabase } from '../../shared/adapters/local/sqlite/database.ts';
import { takeEngineLock } from '../../shared/runtime/embedded/engine-lock.ts';

const [home = '', startFile = '', endFile = ''] = process.argv.slice(2);
const database = new SqliteDatabase(join(home, 'sluice.db'), new FileBlobStore(join(home, 'blobs')));
const until = async (file: string) => {
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 2));
};
process.stdout.write('ready\n');
await until(startFile);
try {
  takeEngineLock(home, database);
  process.stdout.write('won\n');
} catch (err) {
  process.stdout.write(`lost ${(err as Error).message}\n`);
}
await until(endFile);
database.close();
