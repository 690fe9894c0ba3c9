// Reads a ListObjectsV2 answer without an XML library: S3 writes a flat, fixed shape, and the fast
// path only needs keys, sizes, dates, ETags and the continuation token. Anything it does not
// recognise makes it return undefined, and the SDK reads that page instead.
import type { ObjectInfo } from '../../ports/object-store.ts';

export interface ListPage {
  objects: ObjectInfo[];
  nextToken?: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML character data with its five named entities and numeric references resolved. */
export function xmlText(s: string): string | undefined {
  if (!s.includes('&')) return s;
  let bad = false;
  const out = s.replace(/&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([a-z]+));/g, (_, hex, dec, name) => {
    const cp = hex ? Number.parseInt(hex, 16) : dec ? Number.parseInt(dec, 10) : undefined;
    if (cp !== undefined && cp <= 0x10ffff) return String.fromCodePoint(cp);
    const v = name === undefined ? undefined : ENTITIES[name as string];
    if (v === undefined) bad = true;
    return v ?? '';
  });
  // A stray '&' (not part of a reference) means something this reader does not understand.
  if (bad || /&(?!(?:#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]+);)/.test(s)) return undefined;
  return out;
}

function tag(xml: string, name: string): string | undefined {
  const open = xml.indexOf(`<${name}>`);
  if (open < 0) return undefined;
  const start = open + name.length + 2;
  const end = xml.indexOf(`</${name}>`, start);
  return end < 0 ? undefined : xml.slice(start, end);
}

/**
 * The objects of one ListObjectsV2 page, keys decoded as the answer says (EncodingType url:
 * percent-encoding with '+' for a space, as S3 writes it; otherwise XML text).
 */
export function parseListObjectsV2(xml: string): ListPage | undefined {
  if (!xml.includes('<ListBucketResult')) return undefined;
  const urlEncoded = tag(xml, 'EncodingType') === 'url';
  const decodeKey = (raw: string): string | undefined => {
    const text = xmlText(raw);
    if (text === undefined || !urlEncoded) return text;
    try {
      return decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
  };
  const objects: ObjectInfo[] = [];
  let at = 0;
  for (;;) {
    const open = xml.indexOf('<Contents>', at);
    if (open < 0) break;
    const close = xml.indexOf('</Contents>', open);
    if (close < 0) return undefined;
    const entry = xml.slice(open + 10, close);
    at = close + 11;
    const rawKey = tag(entry, 'Key');
    const size = Number(tag(entry, 'Size'));
    if (rawKey === undefined || !Number.isSafeInteger(size)) return undefined;
    const key = decodeKey(rawKey);
    if (key === undefined) return undefined;
    const modified = tag(entry, 'LastModified');
    const mtime = modified === undefined ? undefined : new Date(modified);
    if (mtime && Number.isNaN(mtime.getTime())) return undefined;
    const etagRaw = tag(entry, 'ETag');
    const etag = etagRaw === undefined ? undefined : xmlText(etagRaw);
    objects.push({ key, size, ...(mtime ? { mtime } : {}), ...(etag ? { etag } : {}) });
  }
  const truncated = tag(xml, 'IsTruncated');
  if (truncated !== 'true' && truncated !== 'false') return undefined;
  if (truncated === 'false') return { objects };
  const token = tag(xml, 'NextContinuationToken');
  const nextToken = token === undefined ? undefined : xmlText(token);
  // Truncated without a token would end the listing early: let the SDK read this page.
  if (!nextToken) return undefined;
  return { objects, nextToken };
}
