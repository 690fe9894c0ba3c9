// The request checks of a local API server as pure functions of the headers: each rule, its edges.
import { describe, expect, it } from 'vitest';
import { checkRequest, isLoopbackHost } from '../../../shared/runtime/http-guard.ts';

const TOKEN = 'a'.repeat(43);
const local = { token: TOKEN, boundHost: '127.0.0.1', apiPrefix: '/api/v1' };
const ok = { host: '127.0.0.1:3000', authorization: `Bearer ${TOKEN}` };
const check = (headers: Record<string, string>, url = '/api/v1/exec/jobs', opts = local) =>
  checkRequest({ url, headers }, opts)?.status;

describe('isLoopbackHost', () => {
  it('knows the loopback names and no lookalikes', () => {
    for (const h of [
      'localhost',
      'LOCALHOST',
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of [
      'evil.localhost',
      '127.0.0.1.evil.com',
      'localhost.evil.com',
      '0.0.0.0',
      '10.0.0.1',
      '::',
      'example.com',
    ]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});

describe('checkRequest', () => {
  it('the token: Bearer, case-insensitive scheme, exact value', () => {
    expect(check(ok)).toBeUndefined();
    expect(check({ ...ok, authorization: `bearer ${TOKEN}` })).toBeUndefined();
    expect(check({ host: ok.host })).toBe(401);
    expect(check({ ...ok, authorization: `Bearer ${TOKEN}x` })).toBe(401);
    expect(check({ ...ok, authorization: TOKEN })).toBe(401);
    // without a token (--no-auth) nothing is asked
    expect(check({ host: ok.host }, undefined, { ...local, token: undefined } as never)).toBeUndefined();
  });

  it('Host: bound to loopback only local names (any port, IPv6 too); bound wide any name', () => {
    expect(check({ ...ok, host: 'localhost:3000' })).toBeUndefined();
    expect(check({ ...ok, host: '[::1]:3000' })).toBeUndefined();
    expect(check({ ...ok, host: 'rebind.evil.com:3000' })).toBe(403);
    expect(
      check({ ...ok, host: 'rebind.evil.com:3000' }, undefined, { ...local, boundHost: '0.0.0.0' }),
    ).toBeUndefined();
    // outside the API too (the dashboard's files), but there without the token
    expect(check({ host: 'rebind.evil.com' }, '/index.html')).toBe(403);
    expect(check({ host: 'localhost:3000' }, '/index.html')).toBeUndefined();
  });

  it('Origin: only the server itself', () => {
    expect(check({ ...ok, origin: 'http://127.0.0.1:3000' })).toBeUndefined();
    expect(check({ ...ok, origin: 'http://127.0.0.1:3001' })).toBe(403);
    expect(check({ ...ok, origin: 'https://evil.com' })).toBe(403);
    expect(check({ ...ok, origin: 'null' })).toBe(403);
    expect(check({ ...ok, origin: 'not a url' })).toBe(403);
  });

  it('bodies: JSON only, judged by Content-Length or Transfer-Encoding', () => {
    const body = { ...ok, 'content-length': '2' };
    expect(check({ ...body, 'content-type': 'application/json' })).toBeUndefined();
    expect(check({ ...body, 'content-type': 'Application/JSON; charset=utf-8' })).toBeUndefined();
    expect(check({ ...body, 'content-type': 'application/merge-patch+json' })).toBeUndefined();
    expect(check({ ...body, 'content-type': 'text/plain' })).toBe(415);
    expect(check(body)).toBe(415);
    expect(check({ ...ok, 'transfer-encoding': 'chunked', 'content-type': 'text/plain' })).toBe(415);
    expect(check({ ...ok, 'content-length': '0' })).toBeUndefined();
  });
});
