import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.ts';
import { MAX_DOCUMENT_DEPTH } from '../../../shared/pipeline/constants.ts';
import { DescriptorValidationError } from '../../../shared/pipeline/errors.ts';
import { validatePipeline } from '../../../shared/pipeline/validate-pipeline.ts';

const minimal = () => ({
  name: 'p',
  nodes: [{ nodeName: 'A', algorithmName: 'alg-a', input: ['@flowInput.x'] }],
  flowInput: { x: 1 },
});

function rejection(fn: () => unknown): DescriptorValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DescriptorValidationError);
    return err as DescriptorValidationError;
  }
  throw new Error('expected a rejection');
}

describe('validatePipeline', () => {
  it('returns the normalized pipeline without changing the caller object', () => {
    const raw = minimal();
    const before = JSON.stringify(raw);
    const pipeline = validatePipeline(raw);
    expect(JSON.stringify(raw)).toBe(before);
    expect(pipeline.priority).toBe(3);
    expect(pipeline.nodes[0]!.retry).toEqual({ policy: 'OnCrash', limit: 3 });
  });

  it('is a 400 ValidationError with code INVALID_PIPELINE and the first field', () => {
    const err = rejection(() => validatePipeline({ ...minimal(), priority: 8 }));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.status).toBe(400);
    expect(err.code).toBe('INVALID_PIPELINE');
    expect(err.field).toBe('priority');
    expect(err.toJSON()).toEqual({ code: 'INVALID_PIPELINE', message: 'priority must be <= 5' });
  });

  it('lists several problems in one message, in document order, and keeps each one', () => {
    const err = rejection(() =>
      validatePipeline({
        name: 'p',
        priority: 'high',
        nodes: [{ nodeName: 'A', algorithmName: 'alg-a', retry: { limit: 0 } }],
        tags: 3,
      }),
    );
    expect(err.problems.map((p) => p.field)).toEqual(['priority', 'nodes[0].retry.limit', 'tags']);
    expect(err.message).toBe(
      'priority must be an integer (also: nodes[0].retry.limit must be >= 1; tags must be an array)',
    );
  });

  it('names a missing required field with its path', () => {
    const err = rejection(() => validatePipeline({ name: 'p', nodes: [{ nodeName: 'A' }] }));
    expect(err.message).toBe('node "A": algorithmName is required (kind algorithm)');
    expect(err.field).toBe('nodes[0].algorithmName');
  });

  it('normalizes includeInResults into includeInResult', () => {
    const pipeline = validatePipeline({
      name: 'p',
      nodes: [
        { nodeName: 'A', algorithmName: 'alg-a', includeInResults: true },
        { nodeName: 'B', algorithmName: 'alg-b', includeInResult: true },
        { nodeName: 'C', algorithmName: 'alg-c' },
      ],
    });
    expect(pipeline.nodes.map((n) => n.includeInResult)).toEqual([true, true, false]);
    expect(pipeline.nodes[0]).not.toHaveProperty('includeInResults');
  });

  it('replaces the descriptor flowInput with an execution one, as run -f and the engine do', () => {
    const pipeline = validatePipeline(
      { ...minimal(), flowInput: { x: 1, y: 2 } },
      { flowInput: { x: { nested: true } } },
    );
    expect(pipeline.flowInput).toEqual({ x: { nested: true } });
  });

  it('checks @flowInput paths against the execution flowInput', () => {
    const raw = {
      name: 'p',
      nodes: [{ nodeName: 'A', algorithmName: 'alg-a', input: ['@flowInput.files.0'] }],
    };
    expect(rejection(() => validatePipeline(raw, { flowInput: { files: [] } })).message).toBe(
      'unable to find flowInput.files.0',
    );
    expect(validatePipeline(raw, { flowInput: { files: ['f'] } }).flowInput).toEqual({ files: ['f'] });
  });

  it('can defer the flowInput check to execution (stored pipelines)', () => {
    const raw = {
      name: 'p',
      nodes: [{ nodeName: 'A', algorithmName: 'alg-a', input: ['#@flowInput.files'] }],
    };
    expect(validatePipeline(raw, { checkFlowInput: false }).nodes).toHaveLength(1);
  });

  it('reports a malformed descriptor flowInput, unless an execution flowInput replaces it', () => {
    expect(rejection(() => validatePipeline({ ...minimal(), flowInput: 'x' })).message).toBe(
      'flowInput must be an object',
    );
    expect(validatePipeline({ ...minimal(), flowInput: 'x' }, { flowInput: { x: 1 } }).flowInput).toEqual({
      x: 1,
    });
  });

  it('rejects a flowInput override that is not an object', () => {
    expect(
      rejection(() => validatePipeline(minimal(), { flowInput: [1] as unknown as Record<string, unknown> }))
        .message,
    ).toBe('flowInput must be an object');
  });

  it('rejects documents nested deeper than the limit before touching them', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const err = rejection(() => validatePipeline({ ...minimal(), flowInput: { deep } }));
    expect(err.message).toBe(`the pipeline nests deeper than ${MAX_DOCUMENT_DEPTH} levels`);
  });

  it('validates many huge literal batches without materializing them', () => {
    const input = Array.from({ length: 200 }, () => ({ v: '#[1...1000000]' }));
    const started = performance.now();
    const pipeline = validatePipeline({
      name: 'p',
      nodes: [{ nodeName: 'A', algorithmName: 'alg-a', input }],
    });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(pipeline.nodes[0]!.input).toHaveLength(200);
  });

  it('rejects values that are not JSON data', () => {
    expect(rejection(() => validatePipeline({ ...minimal(), flowInput: { f: () => 1 } })).message).toBe(
      'the pipeline must be plain JSON data',
    );
  });

  it('rejects a non-object document', () => {
    for (const raw of [null, 'x', 3, [minimal()]]) {
      expect(rejection(() => validatePipeline(raw)).message).toBe('the pipeline must be an object');
    }
  });

  it('accepts *@ mixed with @ or #@ of the same or another parent, and #[...], as HKube runs them', () => {
    for (const input of [
      ['*@A', '@A'],
      ['*@A', '#@A'],
      ['*@A', '#@B'],
      ['*@A', '#[x,y]'],
      ['*#@A', '@B'],
    ]) {
      const pipeline = validatePipeline({
        name: 'p',
        nodes: [
          { nodeName: 'A', algorithmName: 'alg-a', input: ['#[1,2]'] },
          { nodeName: 'B', algorithmName: 'alg-b', input: ['#[3,4]'] },
          { nodeName: 'C', algorithmName: 'alg-c', input },
        ],
      });
      expect(pipeline.nodes[2]!.input).toEqual(input);
    }
  });

  it('accepts the full HKube descriptor surface', () => {
    const pipeline = validatePipeline({
      name: 'full.pipeline:v1',
      description: 'all fields',
      experimentName: 'main',
      nodes: [
        {
          nodeName: 'A',
          algorithmName: 'alg-a',
          input: [],
          kind: 'algorithm',
          retry: { policy: 'Always', limit: 5 },
          ttl: 60,
          batchOperation: 'cartesian',
          includeInResult: true,
          extraData: { code: [1] },
        },
      ],
      flowInput: {},
      webhooks: { progress: 'http://localhost:3000/p', result: 'https://example.com/r?x=1' },
      priority: 5,
      triggers: { pipelines: ['other'], cron: { pattern: '*/5 * * * *', enabled: false } },
      options: {
        batchTolerance: 0,
        concurrentPipelines: { amount: 3, rejectOnFailure: false },
        ttl: 10,
        activeTtl: 5,
        progressVerbosityLevel: 'critical',
      },
      tags: ['a', 'b'],
    });
    expect(pipeline.options.batchTolerance).toBe(0);
    expect(pipeline.triggers.cron).toEqual({ pattern: '*/5 * * * *', enabled: false });
  });

  it('fills in HKube defaults: kind batch, no edges, cron disabled until cron start', () => {
    const pipeline = validatePipeline({ ...minimal(), triggers: { cron: { pattern: '0 * * * *' } } });
    expect(pipeline.kind).toBe('batch');
    expect(pipeline.edges).toEqual([]);
    expect(pipeline.triggers.cron).toEqual({ pattern: '0 * * * *', enabled: false });
  });

  it('takes an IANA time zone for the cron trigger and names the field of one it does not know', () => {
    const cron = (timeZone: string) => ({
      ...minimal(),
      triggers: { cron: { pattern: '0 3 * * *', timeZone } },
    });
    expect(validatePipeline(cron('Asia/Tokyo')).triggers.cron).toEqual({
      pattern: '0 3 * * *',
      enabled: false,
      timeZone: 'Asia/Tokyo',
    });
    expect(() => validatePipeline(cron('Mars/Olympus'))).toThrow(
      /triggers\.cron\.timeZone "Mars\/Olympus" is not an IANA time zone/,
    );
  });

  it('reads node ttl 0 as no limit (absent), as HKube does', () => {
    const pipeline = validatePipeline({
      name: 'p',
      nodes: [
        { nodeName: 'A', algorithmName: 'alg-a', ttl: 0 },
        { nodeName: 'B', algorithmName: 'alg-b', ttl: 5 },
      ],
    });
    expect(pipeline.nodes[0]).not.toHaveProperty('ttl');
    expect(pipeline.nodes[1]!.ttl).toBe(5);
  });

  it('keeps reporting every kind problem before refusing a kind it does not run', () => {
    const err = rejection(() =>
      validatePipeline({
        name: 'p',
        nodes: [
          { nodeName: 'A', algorithmName: 'alg-a' },
          { nodeName: 'P', kind: 'pipeline', input: ['@A'] },
          { nodeName: 'D', kind: 'debug' },
        ],
      }),
    );
    expect(err.problems.map((p) => p.field)).toEqual(['nodes[1].spec.name', 'nodes[2].algorithmName']);
  });

  it('accepts maxStatelessCount null (HKube writes it) and refuses a negative minStatelessCount', () => {
    const ok = { nodeName: 'A', algorithmName: 'alg-a', minStatelessCount: 0, maxStatelessCount: null };
    expect(validatePipeline({ name: 'p', nodes: [ok] }).nodes[0]!.maxStatelessCount).toBeNull();
    const bad = { nodeName: 'A', algorithmName: 'alg-a', maxStatelessCount: 'x' };
    expect(rejection(() => validatePipeline({ name: 'p', nodes: [bad] })).message).toBe(
      'nodes[0].maxStatelessCount must be an integer or null',
    );
  });
});
