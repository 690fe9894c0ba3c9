// Picks the ByteSource for a URL: http(s)://, s3:// (through the ObjectStore port: shared/io never
// names an S3 implementation), file:// or a plain local path.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../../errors.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { isS3Url } from '../s3-url.ts';
import { FileSource } from './file-source.ts';
import { HttpSource } from './http-source.ts';
import { S3Source } from './s3-source.ts';
import type { ByteSource } from './source.ts';

export interface SourceDeps {
  /** Needed for s3:// URLs. */
  objectStore?: ObjectStore;
  cwd?: string;
  maxSockets?: number;
  /** Extra request headers for http(s):// URLs (--header). */
  headers?: Record<string, string>;
}

export function openSource(url: string, deps: SourceDeps = {}): ByteSource & { close?(): void } {
  if (/^https?:\/\//i.test(url))
    return new HttpSource(url, {
      maxSockets: deps.maxSockets ?? 64,
      ...(deps.headers ? { headers: deps.headers } : {}),
    });
  if (isS3Url(url)) {
    if (!deps.objectStore) throw new ValidationError(`${url}: no S3 client configured`, 'url');
    return new S3Source(url, deps.objectStore);
  }
  if (/^file:\/\//i.test(url)) return new FileSource(fileURLToPath(url));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url))
    throw new ValidationError(
      `unsupported URL "${url}": use http(s)://, s3://, file:// or a local path`,
      'url',
    );
  return new FileSource(path.resolve(deps.cwd ?? process.cwd(), url));
}
