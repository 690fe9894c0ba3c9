import { describe, expect, it } from 'vitest';
import { evaluatePreconditions, rangeStillApplies } from '../../../shared/cache/preconditions.ts';
import type { ObjectMeta } from '../../../shared/cache/types.ts';

const meta: ObjectMeta = {
  size: 10,
  etag: '"abc"',
  lastModified: 'Wed, 01 Jan 2025 00:00:00 GMT',
  version: 'etag "abc" 10',
  headers: {},
  checkedAt: 0,
};

describe('evaluatePreconditions', () => {
  it('If-Match: 412 unless it names the version', () => {
    expect(evaluatePreconditions({ 'if-match': '"abc"' }, meta)).toBe(200);
    expect(evaluatePreconditions({ 'if-match': '"x", "abc"' }, meta)).toBe(200);
    expect(evaluatePreconditions({ 'if-match': '*' }, meta)).toBe(200);
    expect(evaluatePreconditions({ 'if-match': '"old"' }, meta)).toBe(412);
  });

  it('If-None-Match: 304 when it names the version', () => {
    expect(evaluatePreconditions({ 'if-none-match': '"abc"' }, meta)).toBe(304);
    expect(evaluatePreconditions({ 'if-none-match': 'W/"abc"' }, meta)).toBe(304);
    expect(evaluatePreconditions({ 'if-none-match': '"old"' }, meta)).toBe(200);
  });

  it('dates: If-Modified-Since and If-Unmodified-Since', () => {
    expect(evaluatePreconditions({ 'if-modified-since': 'Thu, 02 Jan 2025 00:00:00 GMT' }, meta)).toBe(304);
    expect(evaluatePreconditions({ 'if-modified-since': 'Tue, 31 Dec 2024 00:00:00 GMT' }, meta)).toBe(200);
    expect(evaluatePreconditions({ 'if-unmodified-since': 'Tue, 31 Dec 2024 00:00:00 GMT' }, meta)).toBe(412);
  });

  it('If-Range: the Range holds only for the same version', () => {
    expect(rangeStillApplies({}, meta)).toBe(true);
    expect(rangeStillApplies({ 'if-range': '"abc"' }, meta)).toBe(true);
    expect(rangeStillApplies({ 'if-range': '"old"' }, meta)).toBe(false);
    expect(rangeStillApplies({ 'if-range': 'W/"abc"' }, meta)).toBe(false);
    expect(rangeStillApplies({ 'if-range': meta.lastModified! }, meta)).toBe(true);
  });
});
