// The API's secret: one token per SLUICE_HOME, in `api-token` (mode 0600), created by the first
// engine that serves and kept across restarts so dashboard links and clients keep working.
// Whoever can read the file can run commands as this user, exactly as whoever can write the home.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export const API_TOKEN_FILE = 'api-token';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32,}$/;

export function apiTokenPath(home: string): string {
  return join(home, API_TOKEN_FILE);
}

/** The token of this home, or undefined when none was created (or it is unreadable or malformed). */
export function readApiToken(home: string): string | undefined {
  try {
    const t = readFileSync(apiTokenPath(home), 'utf8').trim();
    return TOKEN_SHAPE.test(t) ? t : undefined;
  } catch {
    return undefined;
  }
}

/** The token of this home, created (0600, written aside then renamed) when there is none. */
export function ensureApiToken(home: string): string {
  const path = apiTokenPath(home);
  const existing = readApiToken(home);
  if (existing) {
    // A copied or restored file may have lost its mode: only the owner may read the secret.
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return existing;
  }
  mkdirSync(home, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600); // the umask cannot widen it, but a pre-existing tmp file could be wider
  renameSync(tmp, path);
  return token;
}

/** Compares in constant time, so the answer's timing does not reveal how much of a guess was right. */
export function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
