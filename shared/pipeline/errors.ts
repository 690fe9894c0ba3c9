// Errors of the pipeline language: every rejection is a ValidationError (HTTP 400) whose message
// names the field and the rule; `problems` keeps each finding for callers that want them all.
import { SluiceError, ValidationError } from '../errors.ts';

export interface Problem {
  /** Dotted path of the offending field (`options.batchTolerance`, `nodes[1].input[0]`), or '' for the whole document. */
  field: string;
  message: string;
}

export const INVALID_PIPELINE = 'INVALID_PIPELINE';
export const INVALID_ALGORITHM = 'INVALID_ALGORITHM';

/** Several findings joined into one message, first one first. */
export class DescriptorValidationError extends ValidationError {
  override name = 'DescriptorValidationError';
  constructor(
    readonly problems: Problem[],
    code: string = INVALID_PIPELINE,
  ) {
    super(joinProblems(problems), problems[0]?.field, code);
  }
}

function joinProblems(problems: Problem[]): string {
  const [first, ...rest] = problems;
  if (!first) return 'invalid descriptor';
  if (rest.length === 0) return first.message;
  const shown = rest.slice(0, 4).map((p) => p.message);
  const more = rest.length > 4 ? `; and ${rest.length - 4} more` : '';
  return `${first.message} (also: ${shown.join('; ')}${more})`;
}

export function invalidPipeline(message: string, field = ''): DescriptorValidationError {
  return new DescriptorValidationError([{ field, message }], INVALID_PIPELINE);
}

/**
 * The engine asked to expand a node before an output it needs was known: a scheduling bug, not
 * bad input (500).
 */
export class MissingNodeOutputError extends SluiceError {
  override name = 'MissingNodeOutputError';
  constructor(
    readonly nodeName: string,
    readonly parentName: string,
  ) {
    super(
      `node "${nodeName}" was expanded before the output of "${parentName}" was known`,
      'NODE_OUTPUT_MISSING',
      500,
    );
  }
}

/**
 * The engine asked for the one task of index k of a node that has a sub-batch per index (`*@P`
 * together with `#@X` or `#[...]`): it must use expandStreamingItems. A caller's bug (500).
 */
export class StreamingSubBatchError extends SluiceError {
  override name = 'StreamingSubBatchError';
  constructor(readonly nodeName: string) {
    super(
      `node "${nodeName}" has several tasks per item of its *@ parents; expand it with expandStreamingItems`,
      'STREAMING_SUB_BATCH',
      500,
    );
  }
}
