// The JSON Schemas of the pipeline descriptor and the algorithm definition: the single source for
// validation (ajv, which also fills in the defaults) and, later, for the OpenAPI document.
import {
  ALGORITHM_NAME_MAX_LENGTH,
  ALGORITHM_NAME_PATTERN,
  CRON_PATTERN,
  DEFAULT_BATCH_OPERATION,
  DEFAULT_BATCH_TOLERANCE,
  DEFAULT_NODE_KIND,
  DEFAULT_PIPELINE_TTL_SECONDS,
  DEFAULT_PRIORITY,
  DEFAULT_PROGRESS_LEVEL,
  DEFAULT_RETRY_LIMIT,
  DEFAULT_RETRY_POLICY,
  HTTP_URL_PATTERN,
  MAX_PRIORITY,
  MEMORY_PATTERN,
  MIN_PRIORITY,
  NODE_NAME_PATTERN,
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
  required: ['nodeName', 'algorithmName'],
  properties: {
    nodeName: { type: 'string', minLength: 1, pattern: NODE_NAME_PATTERN },
    algorithmName: { type: 'string', minLength: 1 },
    input: {
      type: 'array',
      default: [],
      description: 'Any JSON. String leaves starting with @, #@, *@, *#@ or #[ are references.',
    },
    kind: { type: 'string', minLength: 1, default: DEFAULT_NODE_KIND },
    retry: { ...retrySchema, default: {} },
    ttl: { type: 'integer', minimum: 1, description: 'Seconds one task of this node may run.' },
    batchOperation: { enum: ['indexed', 'cartesian'], default: DEFAULT_BATCH_OPERATION },
    includeInResult: { type: 'boolean' },
    includeInResults: { type: 'boolean', description: 'Alias of includeInResult.' },
    extraData: { description: 'Kept as given; not interpreted.' },
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
    description: { type: 'string' },
    experimentName: { type: 'string' },
    nodes: { type: 'array', minItems: 1, items: nodeSchema },
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
          default: [],
          description: 'Run this pipeline when any of these pipelines completes.',
        },
        cron: {
          type: 'object',
          additionalProperties: false,
          required: ['pattern'],
          properties: {
            pattern: { type: 'string', pattern: CRON_PATTERN },
            enabled: { type: 'boolean', default: true },
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
            amount: { type: 'integer', minimum: 1 },
            rejectOnFailure: { type: 'boolean', default: true },
          },
        },
        ttl: { type: 'integer', minimum: 1, default: DEFAULT_PIPELINE_TTL_SECONDS },
        activeTtl: { type: 'integer', minimum: 1 },
        progressVerbosityLevel: { enum: [...PROGRESS_LEVELS], default: DEFAULT_PROGRESS_LEVEL },
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
    image: { type: 'string', minLength: 1, description: 'Container image (AWS backend).' },
    cpu: { type: 'number', exclusiveMinimum: 0 },
    mem: { type: 'string', pattern: MEMORY_PATTERN },
    gpu: { type: 'integer', minimum: 0 },
    retry: retrySchema,
    maxWorkers: { type: 'integer', minimum: 1 },
    minHotWorkers: { type: 'integer', minimum: 0, default: 0 },
  },
} as const;

/** Human wording for the patterns above, used in error messages instead of the regex. */
export const PATTERN_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [PIPELINE_NAME_PATTERN]: 'contain only letters, digits, and - _ . :',
  [NODE_NAME_PATTERN]: 'contain only letters, digits, - and _',
  [ALGORITHM_NAME_PATTERN]:
    'be lowercase letters, digits, - and ., starting and ending with a letter or digit',
  [MEMORY_PATTERN]: 'be a memory quantity such as 512Mi or 2Gi',
  [HTTP_URL_PATTERN]: 'be an http or https URL',
  [CRON_PATTERN]: 'be a cron pattern of 5 or 6 fields',
};
