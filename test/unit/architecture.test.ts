// The architecture as assertions over the import statements of every .ts file under shared/,
// cli/, functions/, container-tasks/ and infra/: ports never reach up into the engine or the
// adapters, shared/io never into the adapters, dependencies point down the layers (no folder-level
// cycles), and no source file is over 400 lines. Each assertion lists its offenders.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIRS = ['shared', 'cli', 'functions', 'container-tasks', 'infra'];
const MAX_LINES = 400;

/**
 * Lower layers never import higher ones (an import stays in its layer or goes down). `shared/.`
 * is the files directly under shared/ (errors.ts).
 */
const LAYERS: readonly string[][] = [
  ['shared/.'],
  ['shared/pipeline'],
  ['shared/ports'],
  ['shared/api', 'shared/testing'],
  ['shared/engine'],
  ['shared/runner', 'shared/io', 'shared/cache', 'shared/adapters', 'shared/builtins'],
  ['shared/runtime'],
  ['functions', 'container-tasks', 'cli', 'infra'],
];

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (name === 'node_modules' || name === 'cdk.out') continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) out.push(p);
    }
  };
  for (const d of SOURCE_DIRS) walk(join(ROOT, d));
  return out;
}

/** The folder a file belongs to: shared/<folder>, shared/. for shared's own files, else its top dir. */
function folderOf(file: string): string {
  const parts = relative(ROOT, file).split('/');
  if (parts[0] !== 'shared') return parts[0] as string;
  return parts.length > 2 ? `shared/${parts[1]}` : 'shared/.';
}

// `import ... from '...'`, `export ... from '...'`, `import '...'` and `import('...')` (relative only).
const IMPORT =
  /(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

interface Import {
  from: string;
  to: string;
}

function imports(files: string[]): Import[] {
  const out: Import[] = [];
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? '';
      if (spec.startsWith('.')) out.push({ from: f, to: resolve(dirname(f), spec) });
    }
  }
  return out;
}

const files = sourceFiles();
const all = imports(files);
const rel = (f: string) => relative(ROOT, f);
const under = (f: string, dir: string) => rel(f).startsWith(`${dir}/`);
const offenders = (pred: (i: Import) => boolean) =>
  [...new Set(all.filter(pred).map((i) => `${rel(i.from)} -> ${rel(i.to)}`))].sort();

describe('architecture', () => {
  it('finds the sources it checks', () => {
    expect(files.length).toBeGreaterThan(150);
    expect(all.length).toBeGreaterThan(500);
  });

  it('nothing under shared/ports imports shared/engine or shared/adapters', () => {
    expect(
      offenders(
        (i) =>
          under(i.from, 'shared/ports') && (under(i.to, 'shared/engine') || under(i.to, 'shared/adapters')),
      ),
    ).toEqual([]);
  });

  // IO and the cache get object stores and signers through ports, composed in by whoever assembles them.
  it('nothing under shared/io or shared/cache imports shared/adapters', () => {
    expect(
      offenders(
        (i) =>
          (under(i.from, 'shared/io') || under(i.from, 'shared/cache')) && under(i.to, 'shared/adapters'),
      ),
    ).toEqual([]);
  });

  it('dependencies point down the layers (shared/io -> shared/adapters is checked above)', () => {
    const layer = (folder: string) => LAYERS.findIndex((l) => l.includes(folder));
    const unknown = [...new Set(files.map(folderOf))].filter((f) => layer(f) < 0);
    expect(unknown, 'folders missing from LAYERS').toEqual([]);
    expect(offenders((i) => layer(folderOf(i.to)) > layer(folderOf(i.from)))).toEqual([]);
  });

  it('no folder-level import cycles among shared/* folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const i of all) {
      const a = folderOf(i.from);
      const b = folderOf(i.to);
      if (a === b || !a.startsWith('shared/') || !b.startsWith('shared/')) continue;
      graph.set(a, (graph.get(a) ?? new Set()).add(b));
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (node: string, path: string[]) => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'open') {
        cycles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
        return;
      }
      state.set(node, 'open');
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
      state.set(node, 'done');
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });

  const longFiles = files
    .map((f) => ({ file: rel(f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
    .filter((f) => f.lines > MAX_LINES)
    .map((f) => `${f.file} (${f.lines} lines)`);

  it(`no source file over ${MAX_LINES} lines`, () => {
    expect(longFiles).toEqual([]);
  });
});
