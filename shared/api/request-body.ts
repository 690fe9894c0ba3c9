// Checks of request bodies that fail with a ValidationError naming the field and the rule: the
// route's documented body schema (checked by the router before any lookup, so a malformed request
// is 400 whatever it names) and small readers the operations use for their own callers.
import { Ajv, type ValidateFunction } from 'ajv';
import { ValidationError } from '../errors.ts';
import { fingerprintOf, precompiledValidator, standaloneModule } from '../pipeline/precompiled-validators.ts';
import { AJV_OPTIONS, problemsOf } from '../pipeline/schema-validator.ts';

export function obj(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError(`${what} must be a JSON object`, 'body');
  }
  return body as Record<string, unknown>;
}

export function str(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v.length === 0)
    throw new ValidationError(`${field} is required (a string)`, field);
  return v;
}

/** Rejects fields the route does not know (typos are caught, as everywhere in the descriptor). */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) {
      const known = allowed.length ? `allowed: ${allowed.join(', ')}` : 'it takes no fields';
      throw new ValidationError(`unknown field "${k}" in ${where} (${known})`, k);
    }
  }
}

interface ObjectSchema {
  type?: unknown;
  properties?: Record<string, unknown>;
  additionalProperties?: unknown;
}

let ajv: Ajv | undefined;
const compiled = new WeakMap<object, ValidateFunction>();
/** Where the build writes the routes' body validators, named by route (precompiled-validators.ts). */
const PRECOMPILED = 'request-body-validators.cjs';

/** Build time: the body validators of the routes, as a module (`where` → schema, as checkBody names them). */
export function bodyValidatorsModule(schemas: Record<string, object>): { file: string; code: string } {
  const a = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
  return { file: PRECOMPILED, code: standaloneModule(a, AJV_OPTIONS, schemas) };
}

/**
 * Checks a request body against its route's JSON Schema: unknown top-level fields first (with the
 * fields the route takes), then types, bounds and required fields, all named in one message.
 */
export function checkBody(schema: object, body: unknown, where: string): void {
  const s = schema as ObjectSchema;
  if (s.type === 'object' && s.additionalProperties === false && s.properties) {
    onlyFields(obj(body, `the request body of ${where}`), Object.keys(s.properties), where);
  }
  let validate = compiled.get(schema);
  if (!validate) {
    const fingerprint = fingerprintOf(AJV_OPTIONS, schema);
    validate = precompiledValidator(import.meta.url, PRECOMPILED, where, fingerprint);
    if (!validate) {
      ajv ??= new Ajv(AJV_OPTIONS);
      validate = ajv.compile(schema);
    }
    compiled.set(schema, validate);
  }
  if (validate(body)) return;
  const problems = problemsOf(validate, body, 'request body');
  const [first, ...rest] = problems;
  if (!first) throw new ValidationError(`the request body of ${where} is invalid`, 'body');
  const also = rest.length ? ` (also: ${rest.map((p) => p.message).join('; ')})` : '';
  throw new ValidationError(`${first.message}${also}`, first.field || 'body');
}
