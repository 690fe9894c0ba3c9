// Runs the JSON Schemas with ajv (filling in defaults) and turns ajv's findings into Problems that
// name the field and the rule in words a user understands.
import { createRequire } from 'node:module';
import { Ajv, type Code, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Problem } from './errors.ts';
import { fingerprintOf, precompiledValidator, standaloneModule } from './precompiled-validators.ts';
import { algorithmSchema, PATTERN_DESCRIPTIONS, pipelineSchema } from './schema.ts';

/**
 * Ajv options shared by every validator Sluice compiles. The schemas are Sluice's own and are
 * checked against the JSON Schema meta-schema by a unit test (test/unit/pipeline/schemas.test.ts),
 * so ajv does not compile the meta-schema at run time: that took ~40 ms of every job submission.
 */
export const AJV_OPTIONS = {
  allErrors: true,
  strict: true,
  strictTypes: false,
  validateSchema: false,
} as const;

/** The options of the descriptor validators: they also fill in defaults. */
const DESCRIPTOR_OPTIONS = { ...AJV_OPTIONS, useDefaults: true } as const;
const DESCRIPTOR_SCHEMAS = { pipeline: pipelineSchema, algorithm: algorithmSchema };
/** Where the build writes them, beside this module (precompiled-validators.ts). */
const PRECOMPILED = 'schema-validators.cjs';

let ajv: Ajv | undefined;
const compiled: { pipeline?: ValidateFunction; algorithm?: ValidateFunction } = {};

function descriptorAjv(extra: object = {}): Ajv {
  const a = new Ajv({ ...DESCRIPTOR_OPTIONS, ...extra });
  a.addFormat('uri', isAbsoluteUrl);
  return a;
}

/**
 * The validator of one kind, on first use (a job submission needs only the pipeline's): the one the
 * build compiled, or compiled now.
 */
function validator(kind: 'pipeline' | 'algorithm'): ValidateFunction {
  let v = compiled[kind];
  if (!v) {
    const schema = DESCRIPTOR_SCHEMAS[kind];
    v = precompiledValidator(import.meta.url, PRECOMPILED, kind, fingerprintOf(DESCRIPTOR_OPTIONS, schema));
    if (!v) {
      ajv ??= descriptorAjv();
      v = ajv.compile(schema);
    }
    compiled[kind] = v;
  }
  return v;
}

/** Build time: both descriptor validators as one module (the `uri` format's code written into it). */
export function descriptorValidatorsModule(): { file: string; code: string } {
  // ajv's code for the formats object, as source text (its `_` would quote it as a string).
  const { _Code } = createRequire(import.meta.url)('ajv/dist/compile/codegen/code') as {
    _Code: new (code: string) => Code;
  };
  const formats = new _Code(`{ uri: ${isAbsoluteUrl.toString()} }`);
  const a = descriptorAjv({ code: { source: true, formats } });
  return { file: PRECOMPILED, code: standaloneModule(a, DESCRIPTOR_OPTIONS, DESCRIPTOR_SCHEMAS) };
}

function isAbsoluteUrl(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

/** Validates in place (defaults are written into `doc`); returns the problems, first one first. */
export function checkAgainstSchema(kind: 'pipeline' | 'algorithm', doc: unknown): Problem[] {
  const validate = validator(kind);
  if (validate(doc)) return [];
  return problemsOf(validate, doc, kind);
}

/** The findings of a validator that just rejected `doc`, in words, in document order. */
export function problemsOf(validate: ValidateFunction, doc: unknown, kind: string): Problem[] {
  const problems: Problem[] = [];
  const seenFields = new Set<string>();
  for (const err of validate.errors ?? []) {
    // `if`/`then` wrappers repeat what their inner errors already say.
    if (err.keyword === 'if') continue;
    const problem = describeSchemaError(kind, err);
    // One finding per field: a bad URL fails `format` and `pattern`; the first says enough.
    if (seenFields.has(problem.field)) continue;
    seenFields.add(problem.field);
    problems.push(problem);
  }
  // ajv reports in schema order; users read their file top to bottom.
  const positions = new Map(problems.map((p) => [p, documentPosition(doc, p.field)]));
  return problems.sort((a, b) => comparePositions(positions.get(a)!, positions.get(b)!));
}

/** Where a field sits in the document: the index of each key or item along its path. */
function documentPosition(doc: unknown, field: string): number[] {
  const position: number[] = [];
  let value = doc;
  for (const segment of field.match(/[^.[\]]+/g) ?? []) {
    if (value === null || typeof value !== 'object') break;
    const keys = Object.keys(value);
    const index = keys.indexOf(segment);
    position.push(index === -1 ? keys.length : index);
    value = (value as Record<string, unknown>)[segment];
  }
  return position;
}

function comparePositions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** `/nodes/0/retry/limit` → `nodes[0].retry.limit`. */
export function fieldFromPointer(pointer: string): string {
  let field = '';
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(segment)) field += `[${segment}]`;
    else field += field ? `.${segment}` : segment;
  }
  return field;
}

function joinField(parent: string, child: string): string {
  return parent ? `${parent}.${child}` : child;
}

function describeSchemaError(kind: string, err: ErrorObject): Problem {
  const field = fieldFromPointer(err.instancePath);
  const subject = field || `the ${kind}`;
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required': {
      const missing = joinField(field, String(params.missingProperty));
      return { field: missing, message: `${missing} is required` };
    }
    case 'additionalProperties': {
      const extra = joinField(field, String(params.additionalProperty));
      return { field: extra, message: `${extra} is not a known field` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String).join(', ');
      return { field, message: `${subject} must be one of: ${allowed}` };
    }
    case 'pattern': {
      const words = PATTERN_DESCRIPTIONS[String(params.pattern)];
      return { field, message: `${subject} must ${words ?? `match the pattern ${String(params.pattern)}`}` };
    }
    case 'format':
      return { field, message: `${subject} must be an http or https URL` };
    case 'type':
      return {
        field,
        message: `${subject} must be ${String(params.type).split(',').map(article).join(' or ')}`,
      };
    case 'uniqueItems':
      return {
        field,
        message: `${subject} must not list the same item twice (items ${String(params.j)} and ${String(params.i)})`,
      };
    case 'minLength':
      if (params.limit === 1) return { field, message: `${subject} must not be empty` };
      return { field, message: `${subject} must be at least ${String(params.limit)} characters long` };
    case 'maxLength':
      return { field, message: `${subject} must be at most ${String(params.limit)} characters long` };
    case 'maxItems':
      if (field === 'nodes') {
        return {
          field,
          message: `nodes must have at most ${String(params.limit)} items: split a bigger pipeline into pipelines chained by triggers, or use a batch node`,
        };
      }
      return { field, message: `${subject} must have at most ${String(params.limit)} item(s)` };
    case 'minItems':
      return { field, message: `${subject} must have at least ${String(params.limit)} item(s)` };
    default:
      // minimum, maximum, exclusiveMinimum...: ajv already says "must be <= 5".
      return { field, message: `${subject} ${err.message ?? 'is invalid'}` };
  }
}

function article(type: string): string {
  if (type === 'integer') return 'an integer';
  if (type === 'null') return 'null';
  if (type === 'array' || type === 'object') return `an ${type}`;
  return `a ${type}`;
}
