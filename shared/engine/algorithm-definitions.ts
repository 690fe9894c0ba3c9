// The dispatcher's cache of algorithm definitions: the current one of each algorithm (its env,
// code and maxWorkers cap), and the stored versions jobs recorded (coordinator.ts), which never
// change once written. Cleared when an algorithm is applied, restored or deleted.
import type { AlgorithmDefinition } from '../pipeline/types.ts';
import type { AlgorithmReader } from '../ports/registry.ts';

export class AlgorithmDefinitions {
  private current = new Map<string, AlgorithmDefinition | undefined>();
  /** `name\0version` → definition. */
  private versions = new Map<string, AlgorithmDefinition>();

  constructor(private readonly registry: AlgorithmReader) {}

  /** Whether `name` was looked up (the claim scan is synchronous: it uses only loaded ones). */
  has(name: string): boolean {
    return this.current.has(name);
  }

  /** The loaded current definition (see has()). */
  loaded(name: string): AlgorithmDefinition | undefined {
    return this.current.get(name);
  }

  async load(name: string): Promise<AlgorithmDefinition | undefined> {
    if (!this.current.has(name)) this.current.set(name, await this.registry.getAlgorithm(name));
    return this.current.get(name);
  }

  /**
   * The definition a job runs: the version it recorded when it started, so an algorithm applied
   * or restored meanwhile changes later jobs only; 'deleted' if that version no longer exists.
   * Jobs that recorded none (unversioned definitions) run the current one.
   */
  async forJob(
    name: string,
    version: string | undefined,
  ): Promise<AlgorithmDefinition | undefined | 'deleted'> {
    const current = await this.load(name);
    if (version === undefined || current?.version === version) return current;
    const key = `${name}\0${version}`;
    let def = this.versions.get(key);
    if (!def) {
      def = (await this.registry.getAlgorithmVersion(name, version))?.algorithm;
      if (!def) return 'deleted';
      this.versions.set(key, def);
    }
    return def;
  }

  clear(): void {
    this.current.clear();
    this.versions.clear();
  }
}
