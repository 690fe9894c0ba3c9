// What a deployment keeps and for how long: task and event messages for SQS's maximum (14 days),
// blobs expiring a day after the records that point at them (retentionDays), synthesized with a
// non-default retention to show the rule follows it.
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Synthesized, synthSluice } from '../helpers/cdk.ts';
import { resourcesOfType } from '../helpers/cfn.ts';

let s: Synthesized;
let state: Template;

beforeAll(() => {
  s = synthSluice({ retentionDays: 7 }, { bundle: false });
  state = Template.fromStack(s.state);
}, 300_000);
afterAll(() => s?.cleanup());

it('keeps every queue message 14 days (SQS maximum)', () => {
  const queues = Object.values(resourcesOfType(state, 'AWS::SQS::Queue'));
  expect(queues.length).toBe(18); // the 8 queues, their DLQs, failed invocations, cron dead letters
  for (const q of queues) expect(q.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
});

it('expires blobs a day after their records (retentionDays + 1), and only in the blob bucket', () => {
  const buckets = resourcesOfType(state, 'AWS::S3::Bucket');
  const rulesOf = (prefix: string) =>
    Object.entries(buckets).find(([id]) => id.startsWith(prefix))?.[1].Properties.LifecycleConfiguration
      .Rules;
  expect(rulesOf('BlobBucket')).toContainEqual(
    expect.objectContaining({ Id: 'ExpireWithRecords', ExpirationInDays: 8, Status: 'Enabled' }),
  );
  // Answers too large for a Lambda response, handed out by presigned URL, go after a day.
  expect(rulesOf('BlobBucket')).toContainEqual(
    expect.objectContaining({
      Id: 'ExpireLargeApiAnswers',
      Prefix: 'api-answers/',
      ExpirationInDays: 1,
      Status: 'Enabled',
    }),
  );
  // Descriptors in the trigger bucket are the user's: never expired; nor is uploaded algorithm code,
  // which algorithm versions name as long as they exist.
  expect(rulesOf('TriggerBucket').some((r: { ExpirationInDays?: number }) => r.ExpirationInDays)).toBe(false);
  // (only presigned uploads never applied expire, after a day).
  const codeExpiring = rulesOf('CodeBucket').filter((r: { ExpirationInDays?: number }) => r.ExpirationInDays);
  expect(codeExpiring).toEqual([
    expect.objectContaining({ Id: 'ExpireUnusedUploads', Prefix: 'uploads/', ExpirationInDays: 1 }),
  ]);
});
