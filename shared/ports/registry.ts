// Stored pipelines and registered algorithms (`sluice pipeline/algorithm apply`), and the versions
// of algorithm definitions (HKube's /versions/algorithms).
import type { AlgorithmDefinition, Pipeline } from '../pipeline/types.ts';

export type PutMode = 'create' | 'update' | 'upsert';

/** One stored version of an algorithm definition (HKube's shape); never changed once written. */
export interface AlgorithmVersion {
  name: string;
  /** Its id (10 characters), also `algorithm.version`. */
  version: string;
  /** 1.0.0, then 1.0.1, ... in the order versions were made (for people; `version` is the key). */
  semver: string;
  /** Epoch milliseconds. */
  created: number;
  algorithm: AlgorithmDefinition;
}

/** Reading algorithm definitions (their env, code and maxWorkers). */
export interface AlgorithmReader {
  getAlgorithm(name: string): Promise<AlgorithmDefinition | undefined>;
  /** A stored version (what a job that recorded it runs), or undefined. */
  getAlgorithmVersion(name: string, version: string): Promise<AlgorithmVersion | undefined>;
}

export interface Registry extends AlgorithmReader {
  putPipeline(p: Pipeline, mode: PutMode): Promise<void>;
  getPipeline(name: string): Promise<Pipeline | undefined>;
  listPipelines(): Promise<Pipeline[]>;
  deletePipeline(name: string): Promise<boolean>;

  putAlgorithm(a: AlgorithmDefinition, mode: PutMode): Promise<void>;
  listAlgorithms(): Promise<AlgorithmDefinition[]>;
  /** Deletes the definition and all its versions. */
  deleteAlgorithm(name: string): Promise<boolean>;

  /** Stores a new version (a ConflictError if its id exists). */
  putAlgorithmVersion(v: AlgorithmVersion): Promise<void>;
  /** The versions of an algorithm, newest first. */
  listAlgorithmVersions(name: string): Promise<AlgorithmVersion[]>;
  deleteAlgorithmVersion(name: string, version: string): Promise<boolean>;
}
