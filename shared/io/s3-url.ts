// s3://bucket/key parsing, shared by every IO command.
import { ValidationError } from '../errors.ts';

export interface S3Location {
  bucket: string;
  /** May be '' (the whole bucket) or end with '/' (a prefix). */
  key: string;
}

export function isS3Url(s: string): boolean {
  return s.startsWith('s3://');
}

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m?.[1]) throw new ValidationError(`invalid S3 URL "${url}": expected s3://bucket/key`, 'url');
  const bucket = m[1];
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ValidationError(`invalid S3 bucket name "${bucket}" in "${url}"`, 'url');
  }
  return { bucket, key: m[2] ?? '' };
}
