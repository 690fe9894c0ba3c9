// The JSON Schemas of the pipeline descriptor and the algorithm definition: the single source for
// validation (ajv, which also fills in the defaults) and, later, for the OpenAPI document.
import {
  ALGORITHM_NAME_MAX_LENGTH,
  ALGORITHM_NAME_PATTERN,
  CRON_PATTERN,
  DEFAULT_BATCH_OPERATION,
  DEFAULT_BATCH_TOLERANCE,
  DEFAULT_CRON_ENABLED,
  DEFAULT_NODE_KIND,
  DEFAULT_PIPELINE_KIND,
  DEFAULT_PIPELINE_TTL_SECONDS,
  DEFAULT_PRIORITY,
  DEFAULT_PROGRESS_LEVEL,
  DEFAULT_RETRY_LIMIT,
  DEFAULT_RETRY_POLICY,
  HTTP_URL_PATTERN,
  MAX_CONCURRENT_PIPELINES,
  MAX_NODES,
  MAX_PRIORITY,
  MEMORY_PATTERN,
  MIN_PRIORITY,
  NODE_KINDS,
  NODE_NAME_MAX_LENGTH,
  NODE_NAME_PATTERN,
  PIPELINE_KINDS,
  PIPELINE_NAME_PATTERN,
} from './constants.ts';
import { PROGRESS_LEVELS } from './types.ts';

const httpUrl = {
  type: 'string',
  format: 'uri',
  pattern: HTTP_URL_PATTERN,
  description: 'An http:// or https:// URL.',
} as const;

export const retrySchema = {
  type: 'object',
  additionalProperties: false,
  description: 'When a failed task is run again.',
  properties: {
    policy: {
      enum: ['Never', 'OnError', 'OnCrash', 'Always'],
      default: DEFAULT_RETRY_POLICY,
      description: 'OnError: the algorithm reported an error; OnCrash: the worker died; Always: both.',
    },
    limit: { type: 'integer', minimum: 1, default: DEFAULT_RETRY_LIMIT, description: 'Most attempts.' },
  },
} as const;

export const nodeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['nodeName'],
  properties: {
    nodeName: {
      type: 'string',
      minLength: 1,
      maxLength: NODE_NAME_MAX_LENGTH,
      pattern: NODE_NAME_PATTERN,
      description: 'Any text without "." or "#"; flowInput, dataSource and __proto__ are reserved.',
    },
    algorithmName: {
      type: 'string',
      minLength: 1,
      maxLength: ALGORITHM_NAME_MAX_LENGTH,
      pattern: ALGORITHM_NAME_PATTERN,
      description: 'Required for kind algorithm (and debug).',
    },
    input: {
      type: 'array',
      default: [],
      description: 'Any JSON. String leaves starting with @, #@, *@, *#@ or #[ are references.',
    },
    kind: { enum: [...NODE_KINDS], default: DEFAULT_NODE_KIND },
    spec: {
      type: 'object',
      description: 'Kind pipeline: {name, flowInput?}, the stored pipeline this node runs.',
    },
    retry: { ...retrySchema, default: {} },
    ttl: { type: 'integer', minimum: 0, description: 'Seconds one task of this node may run; 0 = no limit.' },
    batchOperation: { enum: ['indexed', 'cartesian'], default: DEFAULT_BATCH_OPERATION },
    includeInResult: { type: 'boolean' },
    includeInResults: { type: 'boolean', description: 'Alias of includeInResult.' },
    metrics: {
      type: 'object',
      additionalProperties: false,
      properties: { tensorboard: { type: 'boolean' } },
      description: "HKube's metrics options; accepted, not used.",
    },
    stateType: {
      enum: ['stateless', 'stateful'],
      description: 'Streaming pipelines only; stateful is refused on a batch pipeline, as in HKube.',
    },
    minStatelessCount: { type: 'integer', minimum: 0, description: 'Streaming only; ignored.' },
    maxStatelessCount: {
      type: ['integer', 'null'],
      minimum: 0,
      description: 'Streaming only; ignored.',
    },
    extraData: { description: 'Kept as given; not interpreted.' },
    cache: {
      type: 'boolean',
      description: "Overrides options.cache for this node's tasks (read S3/HTTP through the worker's cache).",
    },
    description: { type: 'string' },
  },
} as const;

export const pipelineSchema = {
  $id: 'https://sluice.dev/schemas/pipeline.json',
  title: 'Pipeline descriptor (HKube-compatible)',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'nodes'],
  properties: {
    name: { type: 'string', minLength: 1, pattern: PIPELINE_NAME_PATTERN },
    kind: {
      enum: [...PIPELINE_KINDS],
      default: DEFAULT_PIPELINE_KIND,
      description: 'batch (the default); stream is refused: streaming pipelines are not supported.',
    },
    description: { type: 'string' },
    experimentName: { type: 'string' },
    version: { type: 'string', description: "HKube's stored-pipeline version; kept as given." },
    rootJobId: { type: 'string', description: "HKube's root job of a tree; kept as given." },
    nodes: { type: 'array', minItems: 1, maxItems: MAX_NODES, items: nodeSchema },
    edges: {
      type: 'array',
      default: [],
      description: 'Extra dependencies: target waits for source, as with @source, without its value.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['source', 'target'],
        properties: { source: { type: 'string', minLength: 1 }, target: { type: 'string', minLength: 1 } },
      },
    },
    flowInput: { type: 'object', default: {} },
    webhooks: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { progress: httpUrl, result: httpUrl },
    },
    priority: {
      type: 'integer',
      minimum: MIN_PRIORITY,
      maximum: MAX_PRIORITY,
      default: DEFAULT_PRIORITY,
      description: '1..5, 5 is the most urgent.',
    },
    triggers: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        pipelines: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          uniqueItems: true,
          default: [],
          description: 'Run this pipeline when any of these pipelines completes.',
        },
        cron: {
          type: 'object',
          additionalProperties: false,
          required: ['pattern'],
          properties: {
            pattern: { type: 'string', pattern: CRON_PATTERN },
            enabled: {
              type: 'boolean',
              default: DEFAULT_CRON_ENABLED,
              description: 'false by default, as in HKube: cron start enables it.',
            },
            timeZone: {
              type: 'string',
              minLength: 1,
              description:
                'IANA time zone the pattern is read in (Europe/Berlin); default: the local one (UTC on AWS).',
            },
          },
        },
      },
    },
    options: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        batchTolerance: {
          type: 'integer',
          minimum: 0,
          maximum: 100,
          default: DEFAULT_BATCH_TOLERANCE,
          description: 'The job fails when round(failed/total*100) >= batchTolerance; 0 = any failure.',
        },
        concurrentPipelines: {
          type: 'object',
          additionalProperties: false,
          required: ['amount'],
          properties: {
            amount: { type: 'integer', minimum: 1, maximum: MAX_CONCURRENT_PIPELINES },
            rejectOnFailure: { type: 'boolean', default: true },
          },
        },
        ttl: { type: 'integer', minimum: 1, default: DEFAULT_PIPELINE_TTL_SECONDS },
        activeTtl: { type: 'integer', minimum: 1 },
        progressVerbosityLevel: { enum: [...PROGRESS_LEVELS], default: DEFAULT_PROGRESS_LEVEL },
        debugOverride: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          uniqueItems: true,
          description: 'Nodes whose tasks go to a debug worker (HKube); accepted, they run as usual.',
        },
        cache: {
          type: 'boolean',
          description:
            "Sluice: tasks read S3 and HTTP(S) through the worker machine's read-through cache (AWS_ENDPOINT_URL_S3, SLUICE_CACHE_URL).",
        },
      },
    },
    tags: { type: 'array', items: { type: 'string' }, default: [] },
  },
} as const;

export const algorithmSchema = {
  $id: 'https://sluice.dev/schemas/algorithm.json',
  title: 'Algorithm definition',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'env'],
  properties: {
    name: {
      type: 'string',
      minLength: 2,
      maxLength: ALGORITHM_NAME_MAX_LENGTH,
      pattern: ALGORITHM_NAME_PATTERN,
    },
    description: { type: 'string' },
    env: { enum: ['python', 'nodejs', 'command'] },
    entryPoint: { type: 'string', minLength: 1, description: 'File to load (python, nodejs).' },
    command: {
      type: 'array',
      minItems: 1,
      items: { type: 'string' },
      description: 'argv to run (env command).',
    },
    codePath: { type: 'string', minLength: 1 },
    image: {
      type: 'string',
      minLength: 1,
      description:
        'Container image: run through Docker or Podman by the embedded engine (docs/algorithms.md).',
    },
    cpu: { type: 'number', exclusiveMinimum: 0 },
    mem: { type: 'string', pattern: MEMORY_PATTERN },
    gpu: { type: 'integer', minimum: 0 },
    retry: retrySchema,
    maxWorkers: { type: 'integer', minimum: 1 },
    minHotWorkers: { type: 'integer', minimum: 0, default: 0 },
    version: {
      type: 'string',
      minLength: 1,
      description: 'The stored version (set by the engine; a given one is replaced).',
    },
    fileInfo: {
      type: 'object',
      additionalProperties: false,
      required: ['checksum', 'fileSize', 'fileExt'],
      description: 'Uploaded code (set by POST /store/algorithms/apply).',
      properties: {
        checksum: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        fileSize: { type: 'integer', minimum: 0 },
        fileExt: { enum: ['tar.gz', 'tar'] },
      },
    },
  },
} as const;

/** Human wording for the patterns above, used in error messages instead of the regex. */
export const PATTERN_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [PIPELINE_NAME_PATTERN]: 'contain only letters, digits, and - _ . :',
  [NODE_NAME_PATTERN]:
    'not contain "." (it separates a node name from a path in references) or "#" (a key separator of the AWS backend)',
  [ALGORITHM_NAME_PATTERN]:
    'be lowercase letters, digits, - and ., starting and ending with a letter or digit',
  [MEMORY_PATTERN]: 'be a memory quantity with a unit, such as 512Mi, 1.5Gi or 3900Ki',
  [HTTP_URL_PATTERN]: 'be an http or https URL',
  [CRON_PATTERN]: 'be a cron pattern of 5 or 6 fields',
};
