// validateAlgorithm: the algorithm definition's schema and defaults, plus what the environment
// needs to start it (an entry point for python/nodejs, a command for `command`).
import { cloneDocument } from './document-guard.ts';
import { DescriptorValidationError, INVALID_ALGORITHM, type Problem } from './errors.ts';
import { checkAgainstSchema } from './schema-validator.ts';
import type { AlgorithmDefinition } from './types.ts';

export function validateAlgorithm(raw: unknown): AlgorithmDefinition {
  const doc = cloneDocument(raw, 'algorithm', INVALID_ALGORITHM);
  const problems = checkAgainstSchema('algorithm', doc);
  if (problems.length === 0) problems.push(...checkEnvironment(doc as AlgorithmDefinition));
  if (problems.length > 0) throw new DescriptorValidationError(problems, INVALID_ALGORITHM);
  return doc as AlgorithmDefinition;
}

function checkEnvironment(algorithm: AlgorithmDefinition): Problem[] {
  if (algorithm.env === 'command' && !algorithm.command) {
    return [{ field: 'command', message: 'command is required when env is "command"' }];
  }
  if (algorithm.env !== 'command' && !algorithm.entryPoint) {
    return [{ field: 'entryPoint', message: `entryPoint is required when env is "${algorithm.env}"` }];
  }
  return [];
}
