// The pipeline language's data types: the descriptor after validation (defaults filled in), the
// algorithm definition, the DAG, and the values the engine passes to the pure expansion functions.

export type RetryPolicy = 'Never' | 'OnError' | 'OnCrash' | 'Always';
export interface RetrySpec {
  policy: RetryPolicy;
  limit: number;
}

export type BatchOperation = 'indexed' | 'cartesian';
export type ProgressLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical';
export const PROGRESS_LEVELS: readonly ProgressLevel[] = [
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'critical',
];

export type NodeKind = 'algorithm' | 'pipeline' | 'output' | 'dataSource' | 'debug' | 'gateway';

export interface PipelineNode {
  nodeName: string;
  /**
   * Set on every node kind that runs an algorithm. Absent on an `output` node (HKube's rule; its
   * task runs OUTPUT_NODE_ALGORITHM, see engine/node-outputs.ts newTasks).
   */
  algorithmName: string;
  /** Any JSON; string leaves may be references (`@`, `#@`, `*@`, `*#@`, `#[`). */
  input: unknown[];
  kind: NodeKind;
  /** Kind pipeline: the stored pipeline to run as a sub-job, with its flowInput. */
  spec?: { name: string; flowInput?: Record<string, unknown> } & Record<string, unknown>;
  retry: RetrySpec;
  /** Seconds a single task of this node may run; unset = no limit (`ttl: 0` is normalized away). */
  ttl?: number;
  batchOperation: BatchOperation;
  /** Normalized from `includeInResult` or `includeInResults`. */
  includeInResult: boolean;
  extraData?: unknown;
  /** Overrides `options.cache` for this node. */
  cache?: boolean;
  description?: string;
  /** HKube fields accepted as given and not used by a batch pipeline. */
  metrics?: { tensorboard?: boolean };
  stateType?: 'stateless' | 'stateful';
  minStatelessCount?: number;
  maxStatelessCount?: number | null;
}

/** An explicit dependency: `target` waits for all of `source`, as with `@source`. */
export interface PipelineEdge {
  source: string;
  target: string;
}

export interface ConcurrentPipelines {
  amount: number;
  rejectOnFailure: boolean;
}

export interface PipelineOptions {
  batchTolerance: number;
  concurrentPipelines?: ConcurrentPipelines;
  /** Seconds from submission until the job is stopped. */
  ttl: number;
  /** Seconds from the first task starting until the job is stopped. */
  activeTtl?: number;
  progressVerbosityLevel: ProgressLevel;
  /** Nodes HKube would hand to a debug worker; accepted (each must name a node), run as usual. */
  debugOverride?: string[];
  /** Sluice: tasks read S3 and HTTP(S) through the worker machine's read-through cache. */
  cache?: boolean;
}

export interface Pipeline {
  name: string;
  /** Always `batch` after validation (`stream` is refused). */
  kind: 'batch';
  description?: string;
  /** HKube's experiment grouping; kept as given. */
  experimentName?: string;
  /** HKube's stored-pipeline version and job-tree root; kept as given. */
  version?: string;
  rootJobId?: string;
  nodes: PipelineNode[];
  edges: PipelineEdge[];
  flowInput: Record<string, unknown>;
  webhooks: { progress?: string; result?: string };
  /** 1..5, 5 is the most urgent. */
  priority: number;
  triggers: { pipelines: string[]; cron?: CronTrigger };
  options: PipelineOptions;
  tags: string[];
}

/** `triggers.cron`: a 5- or 6-field pattern, read in `timeZone` (IANA) when given. */
export interface CronTrigger {
  pattern: string;
  enabled: boolean;
  /** IANA time zone the pattern is read in; without it, the local time zone (UTC on AWS). */
  timeZone?: string;
}

export type AlgorithmEnv = 'python' | 'nodejs' | 'command';

export interface AlgorithmDefinition {
  name: string;
  env: AlgorithmEnv;
  entryPoint?: string;
  command?: string[];
  codePath?: string;
  image?: string;
  cpu?: number;
  mem?: string;
  gpu?: number;
  retry?: RetrySpec;
  maxWorkers?: number;
  minHotWorkers: number;
  description?: string;
  /** The stored version this definition is (set by the registry on every change; HKube's id). */
  version?: string;
  /** Code uploaded with `POST /store/algorithms/apply`, kept in the object store (HKube's field). */
  fileInfo?: AlgorithmFileInfo;
}

/** An uploaded code archive: `code/<checksum>.<fileExt>` in the engine's object store. */
export interface AlgorithmFileInfo {
  /** SHA-256 of the archive, hex. */
  checksum: string;
  fileSize: number;
  fileExt: 'tar.gz' | 'tar';
}

/**
 * How a child uses a parent: `input` = `@P` (wait for all of P), `batch` = `#@P` (one child item
 * per element / per parent item), `waitAny` = `*@P` (one child item per parent item, as each
 * finishes; like `input` when P is not a batch node), `waitAnyBatch` = `*#@P` (like `batch`, but
 * streaming: child item k starts when parent item k succeeds; like `batch` when P is not a batch).
 */
export type RelationType = 'input' | 'batch' | 'waitAny' | 'waitAnyBatch';

export interface DagEdge {
  source: string;
  target: string;
  types: RelationType[];
}

export interface Dag {
  /** Node names in a topological order (stable: ties keep descriptor order). */
  order: string[];
  edges: DagEdge[];
  parents: ReadonlyMap<string, string[]>;
  children: ReadonlyMap<string, string[]>;
  /** Whether a node runs as a batch (a fan-out), known statically from the inputs. */
  isBatch: ReadonlyMap<string, boolean>;
  /**
   * Whether a node's input has a batch marker besides `*@`/`*#@` over batch parents (`#[...]`,
   * `#@X`, `#@flowInput...`): mixed with `*@`, each parent item gets a sub-batch.
   */
  hasBatchMarker: ReadonlyMap<string, boolean>;
  /** Nodes with no children. */
  sinks: string[];
}

/** What a finished (or, for streaming, partly finished) node produced, as the engine knows it. */
export type NodeOutput =
  | { kind: 'single'; status: 'succeeded' | 'failed'; result?: unknown; error?: string }
  | { kind: 'batch'; items: BatchItemOutput[] }
  | { kind: 'skipped' };

export interface BatchItemOutput {
  batchIndex: number;
  status: 'succeeded' | 'failed' | 'skipped' | 'stopped';
  result?: unknown;
  error?: string;
}

export interface ExpansionContext {
  flowInput: Record<string, unknown>;
  outputs: ReadonlyMap<string, NodeOutput>;
}

export interface TaskInput {
  /** 1-based; absent for a non-batch node. */
  batchIndex?: number;
  input: unknown[];
}

export type Expansion =
  | { kind: 'single'; task: TaskInput }
  | { kind: 'batch'; tasks: TaskInput[] }
  | { kind: 'skipped'; reason: string };

export interface PipelineResult {
  nodeName: string;
  batchIndex?: number;
  algorithmName: string;
  result: unknown;
  error?: string;
}
