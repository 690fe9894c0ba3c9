// Defaults and limits of the pipeline language, in one place so the schema, the docs and the
// engine agree on them.

export const PIPELINE_NAME_PATTERN = '^[-_.:A-Za-z0-9]+$';
/** No dots: `@Node.path` splits the node name from the path at the first dot. */
export const NODE_NAME_PATTERN = '^[-_A-Za-z0-9]+$';
export const ALGORITHM_NAME_PATTERN = '^[a-z0-9][-a-z0-9.]*[a-z0-9]$';
export const ALGORITHM_NAME_MAX_LENGTH = 32;
/** Kubernetes-style memory quantity: `512Mi`, `2Gi`, `1.5G`, `1000000`. */
export const MEMORY_PATTERN = '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|K|M|G|T|P)?$';
export const HTTP_URL_PATTERN = '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]+([/?#]\\S*)?$';
/** Five fields (minute first) or six (second first); croner checks each field's values. */
export const CRON_PATTERN = '^\\s*\\S+(\\s+\\S+){4,5}\\s*$';

/** The name `@flowInput` refers to; no node may take it. */
export const FLOW_INPUT = 'flowInput';

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

/**
 * Most items one batch may have (a `#[...]` literal, or a node's whole expansion). Guards against
 * `#[1...1e12]` or a cartesian product that would exhaust memory; a bigger fan-out should be split.
 */
export const MAX_BATCH_ITEMS = 1_000_000;
/** Deepest nesting accepted in a descriptor: deeper documents are rejected before any recursion. */
export const MAX_DOCUMENT_DEPTH = 100;
/** How many items of a batch `sluice plan` shows by default. */
export const DEFAULT_PLAN_PREVIEW_ITEMS = 3;
