// Reads a JSON (or multipart/form-data: api/multipart.ts) request body within limits: one body at most `maxBodyBytes` (413), and all bodies
// being buffered at once at most `maxBufferedBytes` (503: a burst of large requests cannot take
// the engine's memory). Bytes that are not UTF-8 are refused (400), never silently replaced.
import type { IncomingMessage } from 'node:http';
import { isMultipart, parseMultipart } from '../../api/multipart.ts';
import { ValidationError } from '../../errors.ts';

export interface BodyLimits {
  /** One request body (default 64 MiB). */
  maxBodyBytes: number;
  /** All bodies being read at once (default 256 MiB: four bodies of the largest size). */
  maxBufferedBytes: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = {
  maxBodyBytes: 64 * 1024 * 1024,
  maxBufferedBytes: 256 * 1024 * 1024,
};

export type BodyResult =
  | { ok: true; value: unknown }
  | { ok: false; status: number; type: string; message: string };

const MiB = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;

/** The bytes buffered by one server's requests in flight, shared by all of them. */
export class BodyBudget {
  used = 0;
  constructor(readonly limits: BodyLimits = DEFAULT_BODY_LIMITS) {}

  async read(req: IncomingMessage): Promise<BodyResult> {
    const { maxBodyBytes, maxBufferedBytes } = this.limits;
    const tooLarge: BodyResult = {
      ok: false,
      status: 413,
      type: 'TOO_LARGE',
      message: `request body over ${MiB(maxBodyBytes)} (${maxBodyBytes} bytes)`,
    };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) return tooLarge;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of req) {
        const b = chunk as Buffer;
        if (size + b.length > maxBodyBytes) return tooLarge;
        if (this.used + b.length > maxBufferedBytes) {
          return {
            ok: false,
            status: 503,
            type: 'BUSY',
            message: `the server is already reading ${MiB(this.used)} of request bodies (at most ${MiB(maxBufferedBytes)} at once); retry shortly`,
          };
        }
        size += b.length;
        this.used += b.length;
        chunks.push(b);
      }
    } finally {
      this.used -= size;
    }
    if (size === 0) return { ok: true, value: undefined };
    const type = req.headers['content-type'];
    if (isMultipart(type)) {
      try {
        return { ok: true, value: parseMultipart(Buffer.concat(chunks), type as string) };
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        return { ok: false, status: 400, type: 'INVALID_BODY', message: err.message };
      }
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
    } catch {
      return { ok: false, status: 400, type: 'INVALID_JSON', message: 'request body is not valid UTF-8' };
    }
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (err) {
      return {
        ok: false,
        status: 400,
        type: 'INVALID_JSON',
        message: `request body is not valid JSON: ${(err as Error).message}`,
      };
    }
  }
}
