import { describe, expect, it } from 'vitest';
import { DescriptorValidationError } from '../../../shared/pipeline/errors.ts';
import { memoryInMiB } from '../../../shared/pipeline/memory-quantity.ts';
import { validateAlgorithm } from '../../../shared/pipeline/validate-algorithm.ts';

function messageOf(raw: unknown): string {
  try {
    validateAlgorithm(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(DescriptorValidationError);
    expect((err as DescriptorValidationError).code).toBe('INVALID_ALGORITHM');
    return (err as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('validateAlgorithm', () => {
  it('accepts a python algorithm and fills in defaults', () => {
    const algorithm = validateAlgorithm({
      name: 'multiply',
      env: 'python',
      entryPoint: 'main.py',
      codePath: './algorithms/multiply',
      cpu: 0.5,
      mem: '512Mi',
      retry: { policy: 'OnError' },
    });
    expect(algorithm).toMatchObject({ minHotWorkers: 0, retry: { policy: 'OnError', limit: 3 } });
  });

  it('accepts a command algorithm with an image for AWS', () => {
    const algorithm = validateAlgorithm({
      name: 'tar.extract-2',
      env: 'command',
      command: ['tar', 'xf', '-'],
      image: 'public.ecr.aws/x/y:1',
      gpu: 1,
      maxWorkers: 4,
      minHotWorkers: 1,
    });
    expect(algorithm.command).toEqual(['tar', 'xf', '-']);
  });

  it.each([
    [
      { name: 'Bad_Name', env: 'python', entryPoint: 'm.py' },
      'name must be lowercase letters, digits, - and .',
    ],
    [{ name: 'a'.repeat(33), env: 'python', entryPoint: 'm.py' }, 'name must be at most 32 characters long'],
    [{ name: 'ab-', env: 'python', entryPoint: 'm.py' }, 'name must be lowercase'],
    [{ name: 'ab', env: 'java', entryPoint: 'm.py' }, 'env must be one of: python, nodejs, command'],
    [{ name: 'ab', env: 'python' }, 'entryPoint is required when env is "python"'],
    [{ name: 'ab', env: 'command' }, 'command is required when env is "command"'],
    [{ name: 'ab', env: 'command', command: [] }, 'command must have at least 1 item(s)'],
    [
      { name: 'ab', env: 'nodejs', entryPoint: 'i.js', mem: '1 GB' },
      'mem must be a memory quantity with a unit',
    ],
    [{ name: 'ab', env: 'nodejs', entryPoint: 'i.js', cpu: 0 }, 'cpu must be > 0'],
    [{ name: 'ab', env: 'nodejs', entryPoint: 'i.js', workers: 2 }, 'workers is not a known field'],
    [{ env: 'nodejs', entryPoint: 'i.js' }, 'name is required'],
    [
      { name: 'ab', env: 'nodejs', entryPoint: 'i.js', mem: '1000000' },
      'mem must be a memory quantity with a unit',
    ],
    [
      { name: 'ab', env: 'nodejs', entryPoint: 'i.js', mem: '3900Ki' },
      'mem must be at least 4Mi (got 3900Ki)',
    ],
    [{ name: 'ab', env: 'nodejs', entryPoint: 'i.js', mem: '4M' }, 'mem must be at least 4Mi (got 4M)'],
    [
      { name: 'ab', env: 'nodejs', entryPoint: 'i.js', mem: '8000000000m' },
      'mem must be a memory quantity with a unit',
    ],
    [{ name: 'a\\b', env: 'nodejs', entryPoint: 'i.js' }, 'name must be lowercase letters, digits, - and .'],
  ])('rejects %j: %s', (raw, message) => {
    expect(messageOf(raw)).toContain(message);
  });

  it.each(['4Mi', '4096Ki', '1.5Gi', '2G', '1Ti', '0.5Ei'])('accepts the memory quantity %s', (mem) => {
    expect(validateAlgorithm({ name: 'ab', env: 'nodejs', entryPoint: 'i.js', mem }).mem).toBe(mem);
  });
});

describe('memoryInMiB', () => {
  it('reads binary and decimal units as HKube does', () => {
    expect(memoryInMiB('1.5Gi')).toBe(1536);
    expect(memoryInMiB('3900Ki')).toBeCloseTo(3.809, 3);
    expect(memoryInMiB('4M')).toBeCloseTo(3.815, 3);
    expect(memoryInMiB('512')).toBeUndefined();
  });
});
