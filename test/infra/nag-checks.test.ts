// The cdk-nag plugin is wired to fail the synth: a non-compliant resource in a throwaway app is
// reported, and a pattern acknowledgment only covers the paths it names.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { SluiceNagChecks } from '../../infra/nag-checks.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function synthWith(build: (stack: Stack) => void, nag = new SluiceNagChecks()) {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-nag-'));
  const app = new App({ outdir: dir });
  build(new Stack(app, 'nag-test'));
  Validations.of(app).addPlugins(nag);
  return () => app.synth();
}

// The first synth in a process loads most of aws-cdk-lib: slow on a busy machine.
const SYNTH_TIMEOUT = 120_000;

describe('SluiceNagChecks', () => {
  it(
    'fails the synth on an unacknowledged finding, naming the rule and the resource',
    () => {
      const synth = synthWith((stack) => {
        new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
      });
      expect(synth).toThrow(/nag-test\/PlainQueue\/Resource[\s\S]*AwsSolutions-SQS3/);
    },
    SYNTH_TIMEOUT,
  );

  it(
    'passes a compliant resource',
    () => {
      const nag = new SluiceNagChecks();
      const synth = synthWith((stack) => {
        const dlq = new sqs.Queue(stack, 'Dlq', {
          enforceSSL: true,
          encryption: sqs.QueueEncryption.SQS_MANAGED,
        });
        new sqs.Queue(stack, 'Queue', {
          enforceSSL: true,
          encryption: sqs.QueueEncryption.SQS_MANAGED,
          deadLetterQueue: { queue: dlq, maxReceiveCount: 3 },
        });
      }, nag);
      expect(synth).not.toThrow();
      expect(nag.acknowledged).toEqual([]);
    },
    SYNTH_TIMEOUT,
  );

  it(
    'applies a pattern acknowledgment only to matching paths',
    () => {
      const nag = new SluiceNagChecks([
        { finding: /^AwsSolutions-SQS4$/, path: /nag-test\/Covered\//, reason: 'test' },
        { finding: /^AwsSolutions-SQS3$/, path: /./, reason: 'test' },
      ]);
      const synth = synthWith((stack) => {
        new sqs.Queue(stack, 'Covered');
        new sqs.Queue(stack, 'NotCovered');
      }, nag);
      let message = '';
      try {
        synth();
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/nag-test\/NotCovered\/Resource[\s\S]*AwsSolutions-SQS4/);
      expect(message).not.toContain('nag-test/Covered/');
      expect(nag.acknowledged.map((a) => `${a.finding} ${a.path}`)).toContain(
        'AwsSolutions-SQS4 nag-test/Covered/Resource',
      );
    },
    SYNTH_TIMEOUT,
  );
});
