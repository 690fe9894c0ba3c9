// Loads the golden conformance cases: one directory per case under cases/, holding the descriptor
// (pipeline.json or pipeline.yml), an optional flowInput.json, optional stored/*.json (pipelines
// stored before it runs), and case.json with what to expect.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeOutput, PipelineResult } from '../../shared/pipeline/index.ts';

export const CASES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'cases');

/** A case's expectations; a later issue adds execution expectations next to these. */
export interface CaseExpectations {
  /** Validation must fail: `message` is a substring of the error message, `field` the first field. */
  error?: { message: string; field?: string };
  /** Partial match (toMatchObject) on the validated, normalized pipeline. */
  pipeline?: Record<string, unknown>;
  dag?: {
    order?: string[];
    sinks?: string[];
    batchNodes?: string[];
    edges?: unknown[];
    /** node → the parents it streams from (item k starts when their item k succeeds). */
    streamingParents?: Record<string, string[]>;
  };
  /** Partial match on planPipeline's result. */
  plan?: Record<string, unknown>;
  /** expandNode(node) with `outputs` as the finished nodes. */
  expansions?: Record<string, ExpansionExpectation>;
  /** expandStreamingItem(node, batchIndex) → the task or null (item dropped). */
  streaming?: Record<string, Record<string, unknown>>;
  /** expandStreamingItems(node, batchIndex) → every task of that index ([] when dropped). */
  streamingItems?: Record<string, Record<string, unknown[]>>;
  /** collectResults with `outputs`. */
  results?: PipelineResult[];
  /** Run the pipeline on an engine (execution.ts) with the test built-ins. */
  run?: RunExpectation;
}

/** What an engine must produce when it runs the case (any backend). */
export interface RunExpectation {
  /**
   * Set while the case cannot pass for a reason outside the pipeline language (naming the part
   * that must change): the case is listed as skipped with that reason instead of run.
   */
  pending?: string;
  status: 'completed' | 'failed' | 'stopped';
  /** Substring of the job's reason. */
  reason?: string;
  /** The pipeline results, exactly. */
  results?: PipelineResult[];
  /** Partial match on each node's state (status, total, succeeded, failed, stopped, retried). */
  nodes?: Record<string, Record<string, unknown>>;
  /** A node's task records as [batchIndex, status, result], ordered by batchIndex. */
  items?: Record<string, [number | null, string, unknown][]>;
}

export interface ExpansionExpectation {
  kind: 'single' | 'batch' | 'skipped';
  /** single: the task input. */
  input?: unknown[];
  /** batch: the item count. */
  count?: number;
  /** batch: inputs of chosen items, keyed by batchIndex. */
  items?: Record<string, unknown[]>;
  /** batch: every item's input, in order. */
  inputs?: unknown[][];
  batchIndexes?: number[];
  /** skipped: a substring of the reason. */
  reason?: string;
}

export interface ConformanceCase {
  name: string;
  dir: string;
  pipelineFile: string;
  flowInputFile?: string;
  /** Pipelines stored before the case runs (`stored/*.json`): what its pipeline nodes run. */
  storedFiles: string[];
  description: string;
  /** Simulated outputs of finished nodes, as the engine would pass them. */
  outputs: Record<string, NodeOutput>;
  expect: CaseExpectations;
}

export function loadCases(): ConformanceCase[] {
  return readdirSync(CASES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = join(CASES_DIR, name);
      const pipelineFile = ['pipeline.json', 'pipeline.yml', 'pipeline.yaml']
        .map((f) => join(dir, f))
        .find((f) => existsSync(f));
      if (!pipelineFile) throw new Error(`conformance case ${name} has no pipeline.json or pipeline.yml`);
      const flowInputFile = join(dir, 'flowInput.json');
      const storedDir = join(dir, 'stored');
      const storedFiles = existsSync(storedDir)
        ? readdirSync(storedDir)
            .filter((f) => f.endsWith('.json'))
            .sort()
            .map((f) => join(storedDir, f))
        : [];
      const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as {
        description: string;
        outputs?: Record<string, NodeOutput>;
        expect: CaseExpectations;
      };
      return {
        name,
        dir,
        pipelineFile,
        ...(existsSync(flowInputFile) ? { flowInputFile } : {}),
        storedFiles,
        description: spec.description,
        outputs: spec.outputs ?? {},
        expect: spec.expect,
      };
    });
}
