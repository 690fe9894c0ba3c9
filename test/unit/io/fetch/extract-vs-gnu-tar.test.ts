// Acceptance: Sluice's extraction equals GNU tar's extraction of the same archive (content, modes,
// mtimes, symlinks, hard links), for GNU and pax archives, plain, gzip and lz4, fetched over HTTP
// in small parallel chunks so that entries straddle chunk boundaries.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  link,
  lutimes,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchArchive } from '../../../../shared/io/fetch/fetch.ts';
import { type RangeServer, startRangeServer } from '../../../helpers/range-server.ts';
import { snapshotTree } from '../../../helpers/tree-snapshot.ts';

let work: string;
const T = (days: number) => new Date(Date.UTC(2023, 10, 14) + days * 86_400_000);

async function buildTree(src: string): Promise<void> {
  const top = path.join(src, 'top');
  const longDir = path.join(top, 'd'.repeat(120));
  await mkdir(longDir, { recursive: true });
  await mkdir(path.join(top, 'ro'));
  await mkdir(path.join(top, 'private'));
  await mkdir(path.join(top, 'deep', 'er'), { recursive: true });
  await writeFile(path.join(top, 'small.txt'), 'hello sluice\n');
  await writeFile(path.join(top, 'exec.sh'), '#!/bin/sh\necho hi\n');
  await chmod(path.join(top, 'exec.sh'), 0o755);
  await writeFile(path.join(top, 'empty'), '');
  await writeFile(path.join(top, 'medium.bin'), randomBytes(300 * 1024));
  await writeFile(path.join(top, 'big.bin'), randomBytes(3 * 1024 * 1024 + 17));
  await writeFile(path.join(longDir, `${'f'.repeat(150)}.txt`), 'a long name\n');
  await writeFile(path.join(top, 'naïve-文件.txt'), 'unicode\n');
  await writeFile(path.join(top, 'ro', 'file'), 'read only\n');
  await chmod(path.join(top, 'ro', 'file'), 0o444);
  await writeFile(path.join(top, 'private', 'secret'), 'shh\n');
  await chmod(path.join(top, 'private', 'secret'), 0o600);
  await writeFile(path.join(top, 'suid'), 'setuid\n');
  await chmod(path.join(top, 'suid'), 0o4755);
  await writeFile(path.join(top, 'deep', 'er', 'leaf'), 'leaf\n');
  await symlink('small.txt', path.join(top, 'link-to-small'));
  await symlink('private', path.join(top, 'dirlink'));
  await symlink('../../small.txt', path.join(top, 'deep', 'er', 'up'));
  await symlink('does-not-exist', path.join(top, 'dangling'));
  await link(path.join(top, 'medium.bin'), path.join(top, 'hard-medium'));
  await link(path.join(top, 'big.bin'), path.join(top, 'deep', 'hard-big'));
  let day = 0;
  for (const f of [
    'small.txt',
    'exec.sh',
    'empty',
    'medium.bin',
    'big.bin',
    'ro/file',
    'private/secret',
    'suid',
    'deep/er/leaf',
  ])
    await utimes(path.join(top, f), T(day), T(day++));
  for (const l of ['link-to-small', 'dirlink', 'deep/er/up', 'dangling'])
    await lutimes(path.join(top, l), T(day), T(day++));
  for (const d of ['ro', 'private', 'deep/er', 'deep', 'd'.repeat(120), '.'])
    await utimes(path.join(top, d), T(day), T(day++));
  await chmod(path.join(top, 'ro'), 0o555);
  await chmod(path.join(top, 'private'), 0o700);
}

let server: RangeServer;
const archives: Record<string, Buffer> = {};

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sluice-fetch-accept-'));
  const src = path.join(work, 'src');
  await buildTree(src);
  for (const format of ['gnu', 'pax']) {
    const tarPath = path.join(work, `${format}.tar`);
    execFileSync('tar', ['-c', `--format=${format}`, '-f', tarPath, '-C', src, 'top']);
    archives[`${format}.tar`] = await readFile(tarPath);
    execFileSync('sh', ['-c', `gzip -c ${tarPath} > ${tarPath}.gz && lz4 -q -c ${tarPath} > ${tarPath}.lz4`]);
    archives[`${format}.tar.gz`] = await readFile(`${tarPath}.gz`);
    archives[`${format}.tar.lz4`] = await readFile(`${tarPath}.lz4`);
  }
});

afterAll(async () => {
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

describe('extraction equals GNU tar', () => {
  for (const name of ['gnu.tar', 'gnu.tar.gz', 'gnu.tar.lz4', 'pax.tar', 'pax.tar.gz', 'pax.tar.lz4']) {
    it(`${name}: same files, modes, mtimes, symlinks and hard links`, async () => {
      const body = archives[name]!;
      server = await startRangeServer({ body });
      const ref = path.join(work, `ref-${name}`);
      const ours = path.join(work, `ours-${name}`);
      await mkdir(ref);
      const archivePath = path.join(work, name);
      await writeFile(archivePath, body);
      const decoder = name.endsWith('.lz4') ? ['--use-compress-program=lz4'] : [];
      execFileSync('tar', ['-x', ...decoder, '--no-same-owner', '-p', '-f', archivePath, '-C', ref]);
      const summary = await fetchArchive({
        url: `${server.url}/${name}`,
        output: { kind: 'extract', dest: ours },
        chunkSize: 16 * 1024,
        workers: 6,
        preservePermissions: true,
      });
      await server.close();
      expect(summary.parallel).toBe(true);
      expect(summary.compression).toBe(
        name.endsWith('.gz') ? 'gzip' : name.endsWith('.lz4') ? 'lz4' : 'none',
      );
      expect(summary.symlinks).toBe(4);
      expect(summary.hardlinks).toBe(2);
      const [want, got] = await Promise.all([snapshotTree(ref), snapshotTree(ours)]);
      expect(Object.keys(got).length).toBeGreaterThan(20);
      expect(got).toEqual(want);
    });
  }

  it('strips setuid/setgid unless --preserve-permissions', async () => {
    const dest = path.join(work, 'nosuid');
    await writeFile(path.join(work, 'a.tar'), archives['gnu.tar']!);
    await fetchArchive({ url: path.join(work, 'a.tar'), output: { kind: 'extract', dest } });
    const snap = await snapshotTree(dest);
    expect(snap['top/suid']?.mode).toBe('755');
    expect(snap['top/exec.sh']?.mode).toBe('755');
  });

  it('--strip-components drops leading directories (and hard-link targets alike)', async () => {
    const dest = path.join(work, 'stripped');
    await writeFile(path.join(work, 'b.tar'), archives['pax.tar']!);
    const s = await fetchArchive({
      url: path.join(work, 'b.tar'),
      output: { kind: 'extract', dest },
      stripComponents: 1,
    });
    const snap = await snapshotTree(dest);
    expect(snap['small.txt']?.sha).toBeDefined();
    expect(snap.top).toBeUndefined();
    expect(snap['hard-medium']?.links).toEqual(['hard-medium', 'medium.bin']);
    expect(s.hardlinks).toBe(2);
  });
});

describe('extraction under memory pressure', () => {
  it('a 40 MB tar.lz4 of big and small files, tight --max-memory: same tree as GNU tar', async () => {
    const src = path.join(work, 'pressure-src');
    await mkdir(path.join(src, 'many'), { recursive: true });
    // Big files span several 4 MiB lz4 blocks (pooled, reused while writers still hold views).
    for (let i = 0; i < 6; i++)
      await writeFile(path.join(src, `big-${i}.bin`), randomBytes(5 * 1024 * 1024 + i * 777));
    for (let i = 0; i < 300; i++)
      await writeFile(path.join(src, 'many', `f${i}`), randomBytes((i * 997) % 40_000));
    const archive = path.join(work, 'pressure.tar.lz4');
    execFileSync('sh', ['-c', `tar -c -C ${src} . | lz4 -q -c > ${archive}`]);
    const ref = path.join(work, 'pressure-ref');
    await mkdir(ref);
    execFileSync('tar', ['-x', '--use-compress-program=lz4', '--no-same-owner', '-f', archive, '-C', ref]);
    const body = await readFile(archive);
    const srv = await startRangeServer({ body });
    const ours = path.join(work, 'pressure-ours');
    try {
      await fetchArchive({
        url: `${srv.url}/p.tar.lz4`,
        output: { kind: 'extract', dest: ours },
        chunkSize: 1024 * 1024,
        workers: 4,
        maxMemory: 16 * 1024 * 1024,
        writeWorkers: 3,
      });
    } finally {
      await srv.close();
    }
    expect(await snapshotTree(ours)).toEqual(await snapshotTree(ref));
  });
});
