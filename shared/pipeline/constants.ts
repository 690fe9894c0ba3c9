// Defaults and limits of the pipeline language, in one place so the schema, the docs and the
// engine agree on them.

export const PIPELINE_NAME_PATTERN = '^[-_.:A-Za-z0-9]+$';
/**
 * Any text without a dot or a `#`. The dot is the one character the input language cannot carry
 * in a name: `@Node.path` splits the name from the path at the first dot (prefixes are only read
 * at the start of a reference, so `@`, `*`, `[`, `:` or spaces inside a name are fine). `#` is
 * the AWS backend's key separator (its DynamoDB store reads node names back out of keys); it can
 * be allowed once those keys are encoded.
 */
export const NODE_NAME_PATTERN = '^[^.#]+$';
/**
 * Longest node name (characters). Names travel inside task ids and store keys (a DynamoDB sort key
 * holds at most 1,024 bytes; 128 characters are at most 512 bytes of UTF-8).
 */
export const NODE_NAME_MAX_LENGTH = 128;
/**
 * Most nodes one pipeline may have. Submission and dispatch cost stay flat up to here (node state
 * is stored per node); a bigger graph should be split into pipelines chained by triggers, or use
 * batch nodes, which scale to MAX_BATCH_ITEMS items.
 */
export const MAX_NODES = 10_000;
/** HKube's algorithm-name rule (a Kubernetes label): at least two characters. */
export const ALGORITHM_NAME_PATTERN = '^[a-z0-9][-a-z0-9.]*[a-z0-9]$';
export const ALGORITHM_NAME_MAX_LENGTH = 32;
/** A Kubernetes memory quantity with a unit, as HKube requires: `512Mi`, `1.5Gi`, `3900Ki`, `2G`. */
export const MEMORY_PATTERN = '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|K|M|G|T|P|E)$';
/** HKube's smallest algorithm memory. */
export const MIN_ALGORITHM_MEMORY_MIB = 4;
export const HTTP_URL_PATTERN = '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]+([/?#]\\S*)?$';
/** Five fields (minute first) or six (second first); croner checks each field's values. */
export const CRON_PATTERN = '^\\s*\\S+(\\s+\\S+){4,5}\\s*$';

/** The name `@flowInput` refers to; no node may take it. */
export const FLOW_INPUT = 'flowInput';
/** HKube's `@dataSource` references; reserved as in HKube although Sluice has no data sources. */
export const DATA_SOURCE = 'dataSource';
/**
 * `__proto__` is JavaScript's prototype accessor: as a key of a plain object it would replace the
 * object's prototype instead of adding an entry, so a node of that name (in job state, results and
 * every runtime that reads them) is refused rather than risked.
 */
export const RESERVED_NODE_NAMES: readonly string[] = [FLOW_INPUT, DATA_SOURCE, '__proto__'];

/** HKube's node kinds; the descriptor may name any of them. */
export const NODE_KINDS = ['algorithm', 'pipeline', 'output', 'dataSource', 'debug', 'gateway'] as const;
/**
 * The kinds Sluice runs today. Validation rejects the others by name (validate-nodes.ts,
 * `checkRunnableKinds`); running another kind means adding it here and teaching the engine.
 */
export const RUNNABLE_NODE_KINDS: readonly string[] = ['algorithm', 'output', 'pipeline', 'debug'];
/**
 * What an output node's one task runs: the built-in `echo`, whose result is its resolved input
 * (the parents' outputs the node names), which becomes the job's results.
 */
export const OUTPUT_NODE_ALGORITHM = 'echo';
/**
 * The algorithm name a pipeline node's tasks carry (task records, views, per-algorithm counts).
 * The dispatcher runs such a task as a sub-job of `spec.name` (engine/pipeline-node.ts), never
 * as an algorithm; the name fails the algorithm-name rule, so no registered algorithm can take it.
 */
export const PIPELINE_NODE_ALGORITHM = 'sluice:pipeline';
/** HKube's pipeline kinds: Sluice runs batch pipelines only. */
export const PIPELINE_KINDS = ['batch', 'stream'] as const;
export const DEFAULT_PIPELINE_KIND = 'batch';

export const DEFAULT_PRIORITY = 3;
export const MIN_PRIORITY = 1;
/** 5 is the most urgent. */
export const MAX_PRIORITY = 5;
export const DEFAULT_BATCH_TOLERANCE = 80;
export const DEFAULT_PIPELINE_TTL_SECONDS = 3600;
export const DEFAULT_RETRY_POLICY = 'OnCrash';
export const DEFAULT_RETRY_LIMIT = 3;
export const DEFAULT_NODE_KIND = 'algorithm';
export const DEFAULT_BATCH_OPERATION = 'indexed';
export const DEFAULT_PROGRESS_LEVEL = 'info';
/** As in HKube, an imported pipeline does not start firing by itself: `cron start` enables it. */
export const DEFAULT_CRON_ENABLED = false;
/** HKube's pattern for `POST /cron/start {name}` on a pipeline that has none. */
export const DEFAULT_CRON_PATTERN = '0 * * * *';
/** HKube's bounds of options.concurrentPipelines.amount. */
export const MAX_CONCURRENT_PIPELINES = 10_000;

/**
 * Most items one batch may have (a `#[...]` literal, or a node's whole expansion). Guards against
 * `#[1...1e12]` or a cartesian product that would exhaust memory; a bigger fan-out should be split.
 */
export const MAX_BATCH_ITEMS = 1_000_000;
/** Deepest nesting accepted in a descriptor: deeper documents are rejected before any recursion. */
export const MAX_DOCUMENT_DEPTH = 100;
/** How many items of a batch `sluice plan` shows by default. */
export const DEFAULT_PLAN_PREVIEW_ITEMS = 3;
