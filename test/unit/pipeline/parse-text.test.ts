import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.ts';
import { parsePipelineText } from '../../../shared/pipeline/parse-text.ts';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).message;
  }
  throw new Error('expected a ValidationError');
}

describe('parsePipelineText', () => {
  it('reads JSON and YAML to the same value', () => {
    const json = parsePipelineText(
      '{"name": "x", "nodes": [{"nodeName": "A", "input": ["@flowInput.a", null]}]}',
    );
    const yaml = parsePipelineText('name: x\nnodes:\n  - nodeName: A\n    input: ["@flowInput.a", null]\n');
    expect(yaml).toEqual(json);
  });

  it('ignores a byte order mark and surrounding whitespace', () => {
    expect(parsePipelineText('\uFEFF  {"a": 1}\n')).toEqual({ a: 1 });
  });

  it('keeps YAML 1.2 scalars such as yes and dates as strings', () => {
    expect(parsePipelineText('a: yes\nb: 2024-01-01\n')).toEqual({ a: 'yes', b: '2024-01-01' });
  });

  it('names the line and column of malformed JSON, and the file', () => {
    const message = messageOf(() => parsePipelineText('{"name": "x",\n  "nodes": [\n  }', 'p.json'));
    expect(message).toMatch(/^p\.json: invalid JSON at line 3, column 3: /);
    expect(message).not.toContain('\n');
  });

  it('names the line and column of malformed YAML in one line', () => {
    const message = messageOf(() =>
      parsePipelineText('name: x\nnodes:\n  - nodeName: A\n   algorithmName: alg-b\n'),
    );
    expect(message).toMatch(/^invalid YAML at line 4, column \d+: /);
    expect(message).not.toContain('\n');
  });

  it('rejects duplicate YAML keys and empty files', () => {
    expect(messageOf(() => parsePipelineText('a: 1\na: 2\n'))).toContain('invalid YAML');
    expect(messageOf(() => parsePipelineText('  \n', 'e.yml'))).toBe('e.yml: the file is empty');
  });

  it('reads absurd nesting or rejects it with a ValidationError, never a crash', () => {
    const json = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(Array.isArray(parsePipelineText(json))).toBe(true);
    const yaml = `a: ${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    let outcome: unknown;
    try {
      outcome = parsePipelineText(yaml);
    } catch (err) {
      outcome = err;
    }
    expect(outcome instanceof ValidationError || typeof outcome === 'object').toBe(true);
    expect(outcome).not.toBeInstanceOf(RangeError);
  });

  it('stops a YAML alias bomb', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    ].join('\n');
    expect(messageOf(() => parsePipelineText(bomb))).toContain('unable to parse');
  });
});
