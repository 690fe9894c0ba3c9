import { describe, expect, it } from 'vitest';
import { globToRegExp, PathFilter } from '../../../shared/io/path-filter.ts';

describe('globs (rclone rules)', () => {
  it('* stays within a name, ** crosses directories, ? [..] {..} as in rclone', () => {
    expect(globToRegExp('*.jpg').test('a/b/x.jpg')).toBe(true);
    expect(globToRegExp('a*.jpg').test('xa/b.jpg')).toBe(false);
    expect(globToRegExp('/*.jpg').test('a/x.jpg')).toBe(false);
    expect(globToRegExp('/*.jpg').test('x.jpg')).toBe(true);
    expect(globToRegExp('data/**').test('x/data/1/2.bin')).toBe(true);
    expect(globToRegExp('f?.txt').test('f1.txt')).toBe(true);
    expect(globToRegExp('f?.txt').test('f/.txt')).toBe(false);
    expect(globToRegExp('f[0-2].txt').test('f3.txt')).toBe(false);
    expect(globToRegExp('*.{png,jpg}').test('a.png')).toBe(true);
    expect(globToRegExp('a\\*b').test('a*b')).toBe(true);
    expect(globToRegExp('a\\*b').test('axb')).toBe(false);
    // A pattern matches whole names: "ile.jpg" is not "file.jpg".
    expect(globToRegExp('ile.jpg').test('file.jpg')).toBe(false);
    expect(() => globToRegExp('{a,b')).toThrow(/unclosed \{/);
  });

  it('excludes are tried before includes; any include leaves out what matches none', () => {
    const f = new PathFilter({ include: ['*.csv', 'keep/**'], exclude: ['tmp/', '/top.csv'] });
    expect(f.selects('a.csv')).toBe(true);
    expect(f.selects('x/y/b.csv')).toBe(true);
    expect(f.selects('a.txt')).toBe(false);
    expect(f.selects('keep/a.txt')).toBe(true);
    expect(f.selects('tmp/a.csv')).toBe(false);
    expect(f.selects('x/tmp/a.csv')).toBe(false);
    expect(f.selects('top.csv')).toBe(false);
    expect(f.selects('x/top.csv')).toBe(true);
    // An excluded directory is not walked; the implicit exclude of --include prunes none.
    expect(f.walks('tmp')).toBe(false);
    expect(f.walks('x/tmp/deeper')).toBe(false);
    expect(f.walks('other')).toBe(true);
    expect(new PathFilter({ exclude: ['cache/**'] }).walks('cache')).toBe(false);
    expect(new PathFilter({}).empty).toBe(true);
  });
});
