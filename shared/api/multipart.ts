// multipart/form-data request bodies (RFC 7578), for the one route that takes a file: HKube's
// `POST /store/algorithms/apply` (fields `payload`, `options`, and the code archive as `file`).
// Both HTTP shells (node:http, API Gateway) hand the router a parsed MultipartForm.
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../errors.ts';

export interface UploadedFile {
  filename: string;
  data: Buffer;
}

/** A parsed form: text fields and files by field name (no prototypes: the names are the client's). */
export class MultipartForm {
  readonly fields: Record<string, string> = Object.create(null);
  readonly files: Record<string, UploadedFile> = Object.create(null);
  /** Bytes of the whole body, for size messages. */
  constructor(readonly size: number) {}
}

export function isMultipart(contentType: string | undefined): boolean {
  return /^multipart\/form-data\s*(;|$)/i.test(contentType ?? '');
}

function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (!b)
    throw new ValidationError('multipart/form-data body without a boundary in its Content-Type', 'body');
  return b;
}

function param(header: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header);
  if (m) return (m[1] as string).replace(/\\(.)/g, '$1');
  return new RegExp(`;\\s*${name}=([^;\\s]+)`, 'i').exec(header)?.[1];
}

export function parseMultipart(body: Buffer, contentType: string): MultipartForm {
  const delimiter = Buffer.from(`--${boundaryOf(contentType)}`);
  const form = new MultipartForm(body.length);
  let at = body.indexOf(delimiter);
  if (at < 0) throw new ValidationError('multipart body has no part (its boundary never appears)', 'body');
  for (;;) {
    at += delimiter.length;
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return form; // the closing delimiter
    if (body[at] === 0x0d && body[at + 1] === 0x0a) at += 2;
    const headersEnd = body.indexOf('\r\n\r\n', at);
    if (headersEnd < 0)
      throw new ValidationError('multipart part without a blank line after its headers', 'body');
    const headers = body.subarray(at, headersEnd).toString('utf8').split('\r\n');
    const start = headersEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start);
    if (next < 0) throw new ValidationError('multipart body is truncated (no closing boundary)', 'body');
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? '';
    const name = param(disposition, 'name');
    if (!name) throw new ValidationError('multipart part without a name in its Content-Disposition', 'body');
    if (name in form.fields || name in form.files) {
      throw new ValidationError(`multipart field "${name}" is given twice`, name);
    }
    const data = body.subarray(start, next);
    const filename = param(disposition, 'filename');
    if (filename !== undefined) form.files[name] = { filename, data };
    else form.fields[name] = data.toString('utf8');
    at = next + 2;
  }
}

/** A multipart/form-data body (the CLI's upload): fields first, then files, one random boundary. */
export function encodeMultipart(
  fields: Record<string, string>,
  files: Record<string, UploadedFile>,
): { body: Buffer; contentType: string } {
  const boundary = `----sluice${randomBytes(12).toString('hex')}`;
  const quote = (s: string) => s.replace(/["\\\r\n]/g, (c) => (c === '"' || c === '\\' ? `\\${c}` : ' '));
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  for (const [name, f] of Object.entries(files)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"; filename="${quote(f.filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      f.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
