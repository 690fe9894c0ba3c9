// validateAlgorithm: the algorithm definition's schema and defaults, plus what the environment
// needs to start it (an entry point for python/nodejs, a command for `command`) and HKube's
// smallest memory.
import { MIN_ALGORITHM_MEMORY_MIB } from './constants.ts';
import { cloneDocument } from './document-guard.ts';
import { DescriptorValidationError, INVALID_ALGORITHM, type Problem } from './errors.ts';
import { memoryInMiB } from './memory-quantity.ts';
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
  const mem = algorithm.mem === undefined ? undefined : memoryInMiB(algorithm.mem);
  if (mem !== undefined && mem < MIN_ALGORITHM_MEMORY_MIB) {
    return [
      { field: 'mem', message: `mem must be at least ${MIN_ALGORITHM_MEMORY_MIB}Mi (got ${algorithm.mem})` },
    ];
  }
  if (algorithm.env === 'command' && !algorithm.command) {
    return [{ field: 'command', message: 'command is required when env is "command"' }];
  }
  if (algorithm.env !== 'command' && !algorithm.entryPoint) {
    return [{ field: 'entryPoint', message: `entryPoint is required when env is "${algorithm.env}"` }];
  }
  return [];
}
