// Local files as a ByteSource: ranged reads with fs streams, so `sluice fetch ./x.tar.lz4 -x` uses
// the same decompression/extraction path (and parallel reads help on network volumes).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../../errors.ts';
import { SourceChangedError } from './errors.ts';
import type { ByteRange, ByteSource, SourceInfo } from './source.ts';

export class FileSource implements ByteSource {
  constructor(readonly name: string) {}

  async probe(): Promise<SourceInfo> {
    try {
      const st = await stat(this.name);
      if (!st.isFile()) throw new NotFoundError(`${this.name}: not a regular file`);
      return { size: st.size, ranges: true, lastModified: String(st.mtimeMs) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NotFoundError(`${this.name}: no such file`);
      throw err;
    }
  }

  async open(range: ByteRange | undefined, expect: SourceInfo, signal: AbortSignal): Promise<Readable> {
    const st = await stat(this.name);
    if (expect.size !== undefined && st.size !== expect.size)
      throw new SourceChangedError(this.name, `size ${expect.size} -> ${st.size}`);
    if (expect.lastModified !== undefined && String(st.mtimeMs) !== expect.lastModified)
      throw new SourceChangedError(this.name, 'modification time changed');
    return createReadStream(this.name, {
      ...(range ? { start: range.start, end: range.end } : {}),
      highWaterMark: 1024 * 1024,
      signal,
    });
  }
}
