// What makes the embedded state survive a power cut (issue 11 item 7): the WAL is synced after
// every group commit, before durable() resolves (off the event loop), unless asked for normal; and
// a blob is complete on disk, under its final name, before put() resolves (and so before any row
// references it).
import { fstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../../shared/adapters/local/file-blob-store.ts';
import { SqliteDatabase } from '../../../shared/adapters/local/sqlite/database.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { LocalEngine, synchronousFromEnv } from '../../../shared/runtime/embedded/local-engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-durability-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function synchronousOf(home: string, opts: { synchronous?: 'full' | 'normal' } = {}) {
  const engine = await LocalEngine.open({ home, runner: new InlineRunner(new Map()), ...opts });
  try {
    return engine.db.pragma('synchronous', { simple: true });
  } finally {
    await engine.close();
  }
}

/** A database in full mode whose WAL syncs wait until the test lets each go (`held`), with table t. */
function heldSyncs(name: string) {
  const held: (() => void)[] = [];
  const synced: number[] = [];
  const db = new SqliteDatabase(
    join(dir, name, 'sluice.db'),
    new FileBlobStore(join(dir, name, 'b')),
    'full',
    (fd, done) => {
      synced.push(fd);
      held.push(() => done(null));
    },
  );
  db.db.exec('CREATE TABLE t (x)');
  return { db, held, synced };
}

describe('SQLite synchronous', () => {
  it('SQLite itself runs NORMAL (1) in both modes: full syncs the WAL outside COMMIT', async () => {
    expect(await synchronousOf(join(dir, 'a'))).toBe(1);
    expect(await synchronousOf(join(dir, 'b'), { synchronous: 'normal' })).toBe(1);
  });

  it('full: durable() resolves only after a WAL sync that started after the commit', async () => {
    const { db, held, synced } = heldSyncs('c');
    // Past the group's commit (GROUP_MS after its first write) and what that starts.
    const flushed = () => new Promise((r) => setTimeout(r, 10));
    const state = (p: Promise<void>) => {
      let done = false;
      void p.then(() => {
        done = true;
      });
      return () => done;
    };
    db.batch();
    db.db.prepare('INSERT INTO t VALUES (1)').run();
    const first = state(db.durable());
    await flushed(); // committed, its sync under way
    expect(synced).toHaveLength(1);
    db.batch();
    db.db.prepare('INSERT INTO t VALUES (2)').run();
    const second = state(db.durable());
    await flushed(); // committed while the first sync runs: needs the next one
    expect(synced).toHaveLength(1);
    expect(first()).toBe(false);
    held.shift()?.();
    await flushed();
    expect(first()).toBe(true);
    expect(second()).toBe(false);
    expect(synced).toHaveLength(2); // one sync for the second commit
    const idle = state(db.durable()); // nothing new committed: waits only for the sync under way
    held.shift()?.();
    await flushed();
    expect(second()).toBe(true);
    expect(idle()).toBe(true);
    expect(synced).toHaveLength(2);
    db.close();
  });

  it('close() during a sync on the thread pool leaves the WAL descriptor to it, then it is closed', async () => {
    const { db, held, synced } = heldSyncs('e');
    db.batch();
    db.db.prepare('INSERT INTO t VALUES (1)').run();
    await new Promise((r) => setTimeout(r, 10)); // committed, its sync held on the "pool"
    expect(synced).toHaveLength(1);
    const fd = synced[0] as number;
    db.close(); // synced the WAL itself; the pool's sync still holds the descriptor
    expect(() => fstatSync(fd)).not.toThrow(); // closed under it, that sync failed with EBADF
    held.shift()?.();
    expect(() => fstatSync(fd)).toThrow(/EBADF/);
    expect(synced).toHaveLength(1); // and no sync started after close
  });

  it('normal: durable() resolves at the commit, with no sync', async () => {
    let syncs = 0;
    const db = new SqliteDatabase(
      join(dir, 'd', 'sluice.db'),
      new FileBlobStore(join(dir, 'd', 'b')),
      'normal',
      (_fd, done) => {
        syncs++;
        done(null);
      },
    );
    db.batch();
    db.db.exec('CREATE TABLE t (x)');
    await db.durable();
    expect(syncs).toBe(0);
    db.close();
  });

  it('$SLUICE_SQLITE_SYNCHRONOUS chooses it; a bad value is a one-line error naming the variable', () => {
    expect(synchronousFromEnv({})).toBe('full');
    expect(synchronousFromEnv({ SLUICE_SQLITE_SYNCHRONOUS: 'NORMAL' })).toBe('normal');
    expect(() => synchronousFromEnv({ SLUICE_SQLITE_SYNCHRONOUS: 'off' })).toThrow(
      'SLUICE_SQLITE_SYNCHRONOUS must be full or normal, not "off"',
    );
  });
});

describe('FileBlobStore.put', () => {
  it('leaves the whole blob under its final name, in new nested directories, and no temp file', async () => {
    const blobs = new FileBlobStore(join(dir, 'blobs'));
    const data = Buffer.alloc(200_000, 7);
    await blobs.put('ab/cd/key-1', data);
    expect(readFileSync(join(dir, 'blobs', 'ab', 'cd', 'key-1')).equals(data)).toBe(true);
    expect(readdirSync(join(dir, 'blobs', 'ab', 'cd'))).toEqual(['key-1']);
    expect((await blobs.get('ab/cd/key-1')).length).toBe(200_000);
  });
});
