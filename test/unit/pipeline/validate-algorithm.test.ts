import { describe, expect, it } from 'vitest';
import { DescriptorValidationError } from '../../../shared/pipeline/errors.ts';
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
      'mem must be a memory quantity such as 512Mi',
    ],
    [{ name: 'ab', env: 'nodejs', entryPoint: 'i.js', cpu: 0 }, 'cpu must be > 0'],
    [{ name: 'ab', env: 'nodejs', entryPoint: 'i.js', workers: 2 }, 'workers is not a known field'],
    [{ env: 'nodejs', entryPoint: 'i.js' }, 'name is required'],
  ])('rejects %j: %s', (raw, message) => {
    expect(messageOf(raw)).toContain(message);
  });
});
