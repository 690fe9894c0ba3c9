// `sluice fetch -i FILE`: a list of downloads, in a subset of aria2's input-file syntax. One file
// per line: its URL, then any mirrors of it (whitespace-separated: aria2 uses a TAB), then an
// optional `out=NAME`; an indented `out=NAME` line under a URL (aria2's form) names it too. Blank
// lines and `#` comments are skipped. NAME is relative to -d DIR and may not leave it.
import { ValidationError } from '../../errors.ts';

export interface ListedDownload {
  /** The URL, then its mirrors. */
  urls: string[];
  /** The file name under the download directory. */
  out: string;
  /** The line it came from (1-based), for messages. */
  line: number;
}

/** The name a URL's file gets without out=: the last segment of its path. */
export function nameFromUrl(url: string): string | undefined {
  let last: string;
  try {
    last = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  } catch {
    last = url.split('/').pop() ?? '';
  }
  return last && last !== '.' && last !== '..' ? last : undefined;
}

function checkName(name: string, where: string): string {
  const parts = name.split('/');
  if (name.startsWith('/') || parts.some((p) => p === '..' || p === '')) {
    throw new ValidationError(`${where}: out=${name} must be a relative name inside the directory`, 'out');
  }
  return name;
}

export function parseUrlList(text: string, file = 'the URL list'): ListedDownload[] {
  const out: ListedDownload[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/\s+$/, '');
    const where = `${file}:${i + 1}`;
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    if (/^\s/.test(line)) {
      const m = /^\s+out=(.+)$/.exec(line);
      const last = out[out.length - 1];
      if (!m || !last)
        throw new ValidationError(`${where}: expected a URL, or "  out=NAME" under one`, 'list');
      last.out = checkName(m[1]!.trim(), where);
      continue;
    }
    const words = line.trim().split(/\s+/);
    let name: string | undefined;
    const urls: string[] = [];
    for (const w of words) {
      if (w.startsWith('out=')) name = checkName(w.slice(4), where);
      else urls.push(w);
    }
    if (urls.length === 0) throw new ValidationError(`${where}: no URL`, 'list');
    name ??= nameFromUrl(urls[0]!);
    if (!name)
      throw new ValidationError(`${where}: cannot name the file of ${urls[0]}: add out=NAME`, 'list');
    out.push({ urls, out: name, line: i + 1 });
  }
  return out;
}
