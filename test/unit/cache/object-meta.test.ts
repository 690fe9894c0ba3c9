import { describe, expect, it } from 'vitest';
import {
  answerMatches,
  metaFromAnswer,
  parsePersistedMeta,
  versionOf,
} from '../../../shared/cache/object-meta.ts';

describe('object metadata from an origin answer', () => {
  it('takes the size from Content-Range on a 206 and keeps the headers readers get back', () => {
    const m = metaFromAnswer(
      206,
      {
        'content-range': 'bytes 0-9/1234',
        'content-length': '10',
        etag: '"e1"',
        'content-type': 'text/csv',
        'x-amz-meta-owner': 'me',
        'x-amz-request-id': 'R',
        date: 'now',
      },
      5,
    );
    expect(m).toMatchObject({ size: 1234, etag: '"e1"', version: 'etag "e1" 1234', checkedAt: 5 });
    expect(m?.headers).toEqual({ 'content-type': 'text/csv', 'x-amz-meta-owner': 'me' });
  });

  it('versions by strong ETag, else Last-Modified; none of either is not cacheable', () => {
    expect(versionOf({ etag: '"a"' }, 3)).toBe('etag "a" 3');
    expect(versionOf({ etag: 'W/"a"', 'last-modified': 'Wed, 01 Jan 2025 00:00:00 GMT' }, 3)).toMatch(
      /^date /,
    );
    expect(versionOf({ etag: 'W/"a"' }, 3)).toBeUndefined();
    expect(metaFromAnswer(200, { 'content-length': '3' }, 0)).toBeUndefined();
  });

  it('tells whether a block answer belongs to the version', () => {
    const m = metaFromAnswer(200, { 'content-length': '100', etag: '"a"' }, 0)!;
    expect(answerMatches(206, { 'content-range': 'bytes 0-9/100', etag: '"a"' }, m)).toBe(true);
    expect(answerMatches(206, { 'content-range': 'bytes 0-9/100', etag: '"b"' }, m)).toBe(false);
    expect(answerMatches(206, { 'content-range': 'bytes 0-9/101', etag: '"a"' }, m)).toBe(false);
  });

  it('reads persisted metadata back as unconfirmed, and rejects damaged files', () => {
    const m = metaFromAnswer(200, { 'content-length': '1', etag: '"a"' }, 99)!;
    expect(parsePersistedMeta(JSON.stringify({ format: 1, id: 'x', meta: m }))?.meta.checkedAt).toBe(0);
    expect(parsePersistedMeta('{"format":1,"id":"x"}')).toBeUndefined();
    expect(parsePersistedMeta('{"form')).toBeUndefined();
  });
});
