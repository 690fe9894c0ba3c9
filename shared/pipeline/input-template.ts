// A node's input compiled once into a template whose batch markers are holes, so the items of a
// 100,000-item batch are built by filling holes instead of re-walking and re-resolving the input.
import { type InputReference, isReferenceText, parseReference } from './input-reference.ts';

export type InputTemplate =
  | { kind: 'const'; value: unknown }
  | { kind: 'hole'; index: number }
  | { kind: 'array'; items: InputTemplate[] }
  | { kind: 'object'; entries: Array<[string, InputTemplate]> };

/** How the compiler treats one reference: a resolved value, or a hole filled per item. */
export type ReferenceTreatment = { kind: 'value'; value: unknown } | { kind: 'hole' };

export interface CompiledInput {
  template: InputTemplate;
  /** The reference behind each hole, in input order (depth-first, the order markers combine in). */
  holes: InputReference[];
}

export function compileInput(
  input: unknown,
  treat: (ref: InputReference) => ReferenceTreatment,
): CompiledInput {
  const holes: InputReference[] = [];
  const compile = (value: unknown): InputTemplate => {
    if (isReferenceText(value)) {
      const ref = parseReference(value);
      const treatment = treat(ref);
      if (treatment.kind === 'value') return { kind: 'const', value: treatment.value };
      holes.push(ref);
      return { kind: 'hole', index: holes.length - 1 };
    }
    if (Array.isArray(value)) {
      const items = value.map(compile);
      return items.every((t) => t.kind === 'const')
        ? { kind: 'const', value: items.map((t) => (t as { value: unknown }).value) }
        : { kind: 'array', items };
    }
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value).map(([k, v]): [string, InputTemplate] => [k, compile(v)]);
      return entries.every(([, t]) => t.kind === 'const')
        ? {
            kind: 'const',
            value: Object.fromEntries(entries.map(([k, t]) => [k, (t as { value: unknown }).value])),
          }
        : { kind: 'object', entries };
    }
    return { kind: 'const', value };
  };
  return { template: compile(input), holes };
}

/** Builds one value from the template; parts without holes are shared between items, not copied. */
export function fillTemplate(template: InputTemplate, holeValues: readonly unknown[]): unknown {
  switch (template.kind) {
    case 'const':
      return template.value;
    case 'hole':
      return holeValues[template.index] ?? null;
    case 'array':
      return template.items.map((t) => fillTemplate(t, holeValues));
    case 'object':
      // fromEntries defines own properties, so a `__proto__` key stays data.
      return Object.fromEntries(template.entries.map(([k, t]) => [k, fillTemplate(t, holeValues)]));
  }
}
