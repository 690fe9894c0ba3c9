// The built-in algorithms a worker pool can run, loaded once from its builtin modules: what the
// pool needs to know before running one (in-process or in a builtin host, io-bound or not).
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import type { PoolSettings } from './pool-settings.ts';

export class BuiltinCatalog {
  /** Set once loaded: synchronous lookups (freeSlots) read it. */
  loaded?: Map<string, BuiltinAlgorithm>;
  private loading?: Promise<Map<string, BuiltinAlgorithm>>;

  constructor(private readonly modules: PoolSettings['builtinModules']) {}

  load(): Promise<Map<string, BuiltinAlgorithm>> {
    this.loading ??= (async () => {
      const catalog = new Map<string, BuiltinAlgorithm>();
      for (const { url, exportName } of this.modules) {
        const list = ((await import(url)) as Record<string, unknown>)[exportName];
        if (!Array.isArray(list))
          throw new TypeError(`builtin module ${url} has no array export '${exportName}'`);
        for (const b of list as BuiltinAlgorithm[]) catalog.set(b.name, b);
      }
      this.loaded = catalog;
      return catalog;
    })();
    return this.loading;
  }
}
