// Timeouts that must agree: every queue a Lambda function consumes hides a received message for 6x
// the function's timeout (AWS's guidance for SQS event sources), so a message whose invocation is
// still running (a part of a split expansion, a status batch) is never handed to a second one;
// and one expansion part (SLUICE_EXPAND_MAX_ITEMS tasks) is left to the runtime's default.
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FUNCTION_SPECS } from '../../infra/function-specs.ts';
import { LAMBDA_VISIBILITY_FACTOR } from '../../infra/stacks/state-stack.ts';
import { AWS_ENV } from '../../shared/adapters/aws/config.ts';
import { type Synthesized, synthSluice } from '../helpers/cdk.ts';
import { type CfnResource, resourcesOfType } from '../helpers/cfn.ts';

let s: Synthesized;
let state: Template;
let scheduler: Template;

beforeAll(() => {
  s = synthSluice({}, { bundle: false });
  state = Template.fromStack(s.state);
  scheduler = Template.fromStack(s.scheduler);
}, 300_000);
afterAll(() => s?.cleanup());

const byPrefix = (rs: Record<string, CfnResource>, prefix: string): CfnResource => {
  const hit = Object.entries(rs).find(([id]) => id.startsWith(prefix) && !id.includes('Dlq'));
  if (!hit) throw new Error(`no resource ${prefix}*`);
  return hit[1];
};

it.each([
  ['expand', 'EventQueue'],
  ['status', 'StatusQueue'],
  ['s3-trigger', 'TriggerQueue'],
] as const)('the %s function times out well inside the visibility of %s', (fn, queueId) => {
  const spec = FUNCTION_SPECS[fn];
  const pascal = fn.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
  const lambda = byPrefix(resourcesOfType(scheduler, 'AWS::Lambda::Function'), `${pascal}Function`);
  expect(lambda.Properties.Timeout).toBe(spec.timeoutSeconds);
  const queue = byPrefix(resourcesOfType(state, 'AWS::SQS::Queue'), queueId);
  expect(queue.Properties.VisibilityTimeout).toBe(LAMBDA_VISIBILITY_FACTOR * spec.timeoutSeconds);
  // Deployed with the runtime's part size (5,000 tasks: seconds of writes per invocation).
  expect(lambda.Properties.Environment.Variables[AWS_ENV.expandMaxItems]).toBeUndefined();
});

it('the expand function consumes the event queue (the continuations of split expansions)', () => {
  const mappings = Object.values(resourcesOfType(scheduler, 'AWS::Lambda::EventSourceMapping'));
  const expand = mappings.filter((m) => JSON.stringify(m.Properties.FunctionName).includes('ExpandFunction'));
  expect(expand).toHaveLength(1);
  expect(JSON.stringify(expand[0]?.Properties.EventSourceArn)).toMatch(/EventQueue/);
  expect(expand[0]?.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
});
