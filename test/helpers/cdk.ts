// Synthesizes the Sluice CDK app in-process for the infra tests: context from cdk.json, an outdir
// in a temp dir, and HOME/CDK_HOME/TMPDIR pointed at a sandbox so nothing is written to ~.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildSluiceApp, type SluiceApp } from '../../infra/sluice-app.ts';
import { REPO_ROOT } from '../../infra/stacks/workers-stack.ts';
import { FUNCTION_NAMES } from '../../shared/adapters/aws/config.ts';

/** The real handlers (one per FUNCTION_NAMES entry) that the stacks bundle. */
export const FUNCTIONS_DIR = 'functions';
if (!FUNCTION_NAMES.every((n) => existsSync(path.join(REPO_ROOT, FUNCTIONS_DIR, `${n}.ts`)))) {
  throw new Error(`a handler of ${FUNCTION_NAMES.join(', ')} is missing from ${FUNCTIONS_DIR}/`);
}

/** The feature flags and options of cdk.json, as `cdk` passes them to the app. */
export function cdkJsonContext(): Record<string, unknown> {
  return (
    JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
  ).context;
}

export interface Synthesized extends SluiceApp {
  assembly: CloudAssembly;
  outdir: string;
  cleanup(): void;
}

export function synthSluice(
  context: Record<string, unknown> = {},
  opts: { bundle?: boolean } = {},
): Synthesized {
  const sandbox = mkdtempSync(path.join(os.tmpdir(), 'sluice-cdk-'));
  const saved = { HOME: process.env.HOME, CDK_HOME: process.env.CDK_HOME, TMPDIR: process.env.TMPDIR };
  Object.assign(process.env, { HOME: sandbox, CDK_HOME: sandbox, TMPDIR: sandbox });
  try {
    const outdir = path.join(sandbox, 'cdk.out');
    const built = buildSluiceApp({
      outdir,
      context: {
        ...cdkJsonContext(),
        functionsDir: FUNCTIONS_DIR,
        // The CLI's way to skip asset bundling (`cdk deploy --exclusively`); only when asked.
        ...(opts.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
        ...context,
      },
    });
    const assembly = built.app.synth();
    return { ...built, assembly, outdir, cleanup: () => rmSync(sandbox, { recursive: true, force: true }) };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
