// Stored pipelines and registered algorithms (`sluice pipeline/algorithm apply`).
import type { AlgorithmDefinition, Pipeline } from '../pipeline/types.ts';

export type PutMode = 'create' | 'update' | 'upsert';

/** Reading algorithm definitions (their env, code and maxWorkers). */
export interface AlgorithmReader {
  getAlgorithm(name: string): Promise<AlgorithmDefinition | undefined>;
}

export interface Registry extends AlgorithmReader {
  putPipeline(p: Pipeline, mode: PutMode): Promise<void>;
  getPipeline(name: string): Promise<Pipeline | undefined>;
  listPipelines(): Promise<Pipeline[]>;
  deletePipeline(name: string): Promise<boolean>;

  putAlgorithm(a: AlgorithmDefinition, mode: PutMode): Promise<void>;
  listAlgorithms(): Promise<AlgorithmDefinition[]>;
  deleteAlgorithm(name: string): Promise<boolean>;
}
