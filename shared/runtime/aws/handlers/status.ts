// status: task outcomes from workers (SQS) → task state, fan-in counters, job transitions,
// pipeline triggers and webhooks, through the shared Coordinator. A duplicate outcome is a no-op
// (the task's conditional write fails), so at-least-once delivery counts once.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { AwsEngine } from '../aws-engine.ts';
import { eachRecord } from './sqs-batch.ts';

export function createStatusHandler(engine: () => AwsEngine) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const e = engine();
    const res = await eachRecord(event, async (r) => {
      await e.coordinator.taskOutcome(await e.outcomes.read(r.body));
    });
    await e.notifier.drain();
    return res;
  };
}
