// --include/--exclude for cp, sync and check, with rclone's glob rules: patterns match paths
// relative to the source root; all excludes are tried before all includes (first match wins); any
// include adds an implicit "exclude everything else". A pattern ending in `/` names directories,
// and an exclude that matches a directory (`tmp/`, `cache/**`) prunes it: it is never walked.
import { ValidationError } from '../errors.ts';

interface Rule {
  include: boolean;
  /** Matches directories only (pattern ends in '/'). */
  dirOnly: boolean;
  re: RegExp;
  pattern: string;
}

/** One glob (rclone syntax) as a regular expression over '/'-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  let p = glob;
  const anchored = p.startsWith('/');
  if (anchored) p = p.slice(1);
  let re = '';
  let braces = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) re += escapeChar(p[++i]!);
    else if (c === '*') {
      if (p[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end < 0) throw new ValidationError(`bad glob "${glob}": unclosed [`, 'glob');
      let cls = p.slice(i + 1, end).replace(/\\/g, '\\\\');
      if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls}]`;
      i = end;
    } else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else re += escapeChar(c);
  }
  if (braces > 0) throw new ValidationError(`bad glob "${glob}": unclosed {`, 'glob');
  return new RegExp(`${anchored ? '^' : '(?:^|/)'}${re}$`);
}

function escapeChar(c: string): string {
  return /[.+^${}()|[\]\\*?]/.test(c) ? `\\${c}` : c;
}

export class PathFilter {
  private readonly rules: Rule[];
  private readonly hasIncludes: boolean;
  private readonly prunedDirs = new Map<string, boolean>();

  constructor(opts: { include?: readonly string[]; exclude?: readonly string[] }) {
    const rule = (include: boolean) => (pattern: string) => ({
      include,
      dirOnly: pattern.endsWith('/'),
      re: globToRegExp(pattern),
      pattern,
    });
    this.rules = [...(opts.exclude ?? []).map(rule(false)), ...(opts.include ?? []).map(rule(true))];
    this.hasIncludes = (opts.include ?? []).length > 0;
  }

  /** True when the filter lets everything through (no rules). */
  get empty(): boolean {
    return this.rules.length === 0;
  }

  /**
   * Whether to walk directory `rel` ('' is the root). Tested as `rel/`: a matching exclude prunes
   * it, a matching include keeps it; the implicit exclude of `--include` never prunes a directory
   * (files further down may still be included).
   */
  walks(rel: string): boolean {
    if (rel === '') return true;
    let known = this.prunedDirs.get(rel);
    if (known === undefined) {
      const slash = rel.lastIndexOf('/');
      if (slash > 0 && !this.walks(rel.slice(0, slash))) known = true;
      else {
        const first = this.rules.find((r) => r.re.test(`${rel}/`));
        known = first !== undefined && !first.include;
      }
      this.prunedDirs.set(rel, known);
    }
    return !known;
  }

  /** Whether the file (or symlink) at `rel` is selected. */
  selects(rel: string): boolean {
    const slash = rel.lastIndexOf('/');
    if (slash > 0 && !this.walks(rel.slice(0, slash))) return false;
    const first = this.rules.find((r) => !r.dirOnly && r.re.test(rel));
    return first ? first.include : !this.hasIncludes;
  }
}
