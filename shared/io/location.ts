// Command-line arguments as locations: a local path or s3://bucket/key.
import { basename, resolve } from 'node:path';
import { isS3Url, parseS3Url } from './s3-url.ts';
import type { Location } from './types.ts';

export function parseLocation(arg: string, cwd = process.cwd()): Location {
  if (isS3Url(arg)) return { kind: 's3', ...parseS3Url(arg) };
  return { kind: 'local', path: resolve(cwd, arg) };
}

export function formatLocation(loc: Location): string {
  return loc.kind === 'local' ? loc.path : `s3://${loc.bucket}/${loc.key}`;
}

/** The last name of a location (what `cp -r SRC DIR/` creates inside DIR). */
export function locationBasename(loc: Location): string {
  if (loc.kind === 'local') return basename(loc.path);
  const parts = loc.key.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? loc.bucket;
}

/** `key` as an S3 "directory" prefix: '' stays '' (the whole bucket), otherwise ends with '/'. */
export function asPrefix(key: string): string {
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}
