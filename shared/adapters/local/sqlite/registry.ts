// Registry on SQLite: stored pipelines and registered algorithms, one row each (JSON body).
import { ConflictError, NotFoundError } from '../../../errors.ts';
import type { AlgorithmDefinition, Pipeline } from '../../../pipeline/types.ts';
import type { AlgorithmVersion, PutMode, Registry } from '../../../ports/registry.ts';
import type { Row, SqliteDatabase } from './database.ts';

type Table = 'pipelines' | 'algorithms';

export class SqliteRegistry implements Registry {
  constructor(private readonly d: SqliteDatabase) {}

  /** Writes `body` under `name`; false when `update` finds nothing to update. */
  private put(table: Table, kind: string, name: string, body: unknown, mode: PutMode): boolean {
    const exists = this.d.sql(`SELECT 1 FROM ${table} WHERE name = ?`).get(name) !== undefined;
    if (mode === 'create' && exists) throw new ConflictError(`${kind} "${name}" already exists`);
    if (mode === 'update' && !exists) return false;
    this.d
      .sql(
        `INSERT INTO ${table} (name, body, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
      )
      .run(name, JSON.stringify(body), Date.now());
    return true;
  }

  private get<T>(table: Table, name: string): T | undefined {
    const r = this.d.sql(`SELECT body FROM ${table} WHERE name = ?`).get(name) as Row | undefined;
    return r ? (JSON.parse(String(r.body)) as T) : undefined;
  }

  private list<T>(table: Table): T[] {
    return (this.d.sql(`SELECT body FROM ${table} ORDER BY name`).all() as Row[]).map(
      (r) => JSON.parse(String(r.body)) as T,
    );
  }

  private remove(table: Table, name: string): boolean {
    return this.d.sql(`DELETE FROM ${table} WHERE name = ?`).run(name).changes === 1;
  }

  async putPipeline(p: Pipeline, mode: PutMode): Promise<void> {
    if (!this.put('pipelines', 'pipeline', p.name, p, mode)) {
      throw new NotFoundError(`pipeline "${p.name}" does not exist`);
    }
  }
  async getPipeline(name: string): Promise<Pipeline | undefined> {
    return this.get<Pipeline>('pipelines', name);
  }
  async listPipelines(): Promise<Pipeline[]> {
    return this.list<Pipeline>('pipelines');
  }
  async deletePipeline(name: string): Promise<boolean> {
    return this.remove('pipelines', name);
  }
  async putAlgorithm(a: AlgorithmDefinition, mode: PutMode): Promise<void> {
    if (!this.put('algorithms', 'algorithm', a.name, a, mode)) {
      throw new NotFoundError(`algorithm "${a.name}" does not exist`);
    }
  }
  async getAlgorithm(name: string): Promise<AlgorithmDefinition | undefined> {
    return this.get<AlgorithmDefinition>('algorithms', name);
  }
  async listAlgorithms(): Promise<AlgorithmDefinition[]> {
    return this.list<AlgorithmDefinition>('algorithms');
  }
  async deleteAlgorithm(name: string): Promise<boolean> {
    this.d.sql('DELETE FROM algorithm_versions WHERE name = ?').run(name);
    return this.remove('algorithms', name);
  }

  async putAlgorithmVersion(v: AlgorithmVersion): Promise<void> {
    try {
      this.d
        .sql('INSERT INTO algorithm_versions (name, version, created_at, body) VALUES (?, ?, ?, ?)')
        .run(v.name, v.version, v.created, JSON.stringify(v));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new ConflictError(`version ${v.version} of algorithm "${v.name}" already exists`);
      }
      throw err;
    }
  }
  async getAlgorithmVersion(name: string, version: string): Promise<AlgorithmVersion | undefined> {
    const r = this.d
      .sql('SELECT body FROM algorithm_versions WHERE name = ? AND version = ?')
      .get(name, version) as Row | undefined;
    return r ? (JSON.parse(String(r.body)) as AlgorithmVersion) : undefined;
  }
  async listAlgorithmVersions(name: string): Promise<AlgorithmVersion[]> {
    const rows = this.d
      .sql('SELECT body FROM algorithm_versions WHERE name = ? ORDER BY created_at DESC, rowid DESC')
      .all(name) as Row[];
    return rows.map((r) => JSON.parse(String(r.body)) as AlgorithmVersion);
  }
  async deleteAlgorithmVersion(name: string, version: string): Promise<boolean> {
    return (
      this.d.sql('DELETE FROM algorithm_versions WHERE name = ? AND version = ?').run(name, version)
        .changes === 1
    );
  }
}
