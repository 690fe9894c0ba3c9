// Small readers of request bodies that fail with a ValidationError naming the field and the rule.
import { ValidationError } from '../errors.ts';

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
      throw new ValidationError(`unknown field "${k}" in ${where} (allowed: ${allowed.join(', ')})`, k);
    }
  }
}
