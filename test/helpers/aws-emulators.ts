// AWS-protocol emulators on 127.0.0.1, port 0: dynalite (DynamoDB), local-aws-sqs (SQS, patched
// for long polls) and s3rver (S3). When AWS_ENDPOINT_URL (LocalStack) or real credentials are
// configured with SLUICE_TEST_AWS=1, nothing is started and the tests use that account instead.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allBuiltins } from '../../shared/builtins/registry.ts';
import { InlineRunner } from '../../shared/runner/inline-runner.ts';
import { EMULATOR_ENV_BASE, startLocalEmulators } from '../../shared/runtime/aws-emulated/emulators.ts';
import { type Provisioned, provisionAwsResources } from '../../shared/runtime/aws-emulated/provision.ts';
import {
  type LocalAwsStack,
  type LocalAwsStackOptions,
  startLocalAwsStack,
} from '../../shared/runtime/aws-emulated/stack.ts';
import { testBuiltins } from './engine.ts';

export interface Emulators {
  /** Environment for the SDK (endpoints, region, credentials). */
  env: Record<string, string>;
  /** s3rver's event emitter (ObjectCreated notifications), when emulated. */
  s3Events?: NodeJS.EventEmitter;
  /** The pid of each emulator run as its own process (`processes: true`). */
  pids?: { dynamodb: number; sqs: number; s3: number };
  close(): Promise<void>;
}

/** True when the tests should use a real endpoint (LocalStack or an account) instead. */
export function useRealAws(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SLUICE_TEST_AWS === '1';
}

const ENV_BASE = EMULATOR_ENV_BASE;

/** Each emulator in its own child process (benchmarks: they get a core each instead of one). */
async function startEmulatorProcesses(): Promise<Emulators> {
  const { spawn } = await import('node:child_process');
  const script = new URL('./emulator-process.ts', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-s3rver-'));
  const children: import('node:child_process').ChildProcess[] = [];
  const start = (kind: string) =>
    new Promise<number>((resolve, reject) => {
      const c = spawn(process.execPath, ['--import', 'tsx', script, kind, dir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(c);
      let out = '';
      c.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n')[0];
        if (out.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
      });
      c.once('exit', (code) => reject(new Error(`emulator ${kind} exited with ${code}`)));
    });
  const [ddb, sqs, s3] = await Promise.all([start('dynamodb'), start('sqs'), start('s3')]);
  const [dynamodb, sqsPid, s3Pid] = children.map((c) => c.pid ?? 0);
  return {
    pids: { dynamodb: dynamodb ?? 0, sqs: sqsPid ?? 0, s3: s3Pid ?? 0 },
    env: {
      ...ENV_BASE,
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${ddb}`,
      AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${sqs}`,
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${s3}`,
    },
    async close() {
      for (const c of children) c.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startEmulators(opts: { processes?: boolean } = {}): Promise<Emulators> {
  if (useRealAws()) {
    return { env: {}, close: async () => {} };
  }
  if (opts.processes) return startEmulatorProcesses();
  return startLocalEmulators();
}

/** Emulators (or the real endpoint) plus a fresh, uniquely named set of resources. */
export async function startAwsTestBed(
  label: string,
  opts: { maxReceiveCount?: number; visibilitySeconds?: number } = {},
): Promise<Emulators & Provisioned & { prefix: string }> {
  const emu = await startEmulators();
  // The SDK reads endpoints and credentials from process.env.
  Object.assign(process.env, emu.env);
  const prefix = `sl-${label}-${randomBytes(3).toString('hex')}`.toLowerCase();
  const p = await provisionAwsResources({ prefix, ...opts });
  return { ...emu, ...p, prefix };
}

/**
 * A test bed plus the emulated stack on it with an in-process worker running the built-ins and the
 * test built-ins (sleep, fail...) inline: what most AWS integration tests start in beforeAll.
 */
export async function startInlineAwsStack(
  label: string,
  /** `stack`: further options of the emulated stack (its HTTP front, debug timings...). */
  opts: {
    slots?: number;
    bed?: Parameters<typeof startAwsTestBed>[1];
    stack?: Partial<LocalAwsStackOptions>;
  } = {},
): Promise<{
  bed: Awaited<ReturnType<typeof startAwsTestBed>>;
  stack: LocalAwsStack;
  close(): Promise<void>;
}> {
  const builtins = allBuiltins();
  for (const b of testBuiltins) builtins.set(b.name, b);
  const bed = await startAwsTestBed(label, opts.bed);
  const slots = opts.slots ?? 2;
  const stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    builtins,
    runner: new InlineRunner(builtins, slots),
    slots,
    s3PollMs: 0,
    onError: () => {},
    ...opts.stack,
  });
  return {
    bed,
    stack,
    async close() {
      await stack.close();
      await bed.close();
    },
  };
}
