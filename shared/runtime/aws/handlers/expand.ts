// expand: engine events (SQS) that continue a job outside the request that caused them —
// `reconcile` re-derives what should happen next from the stored state (expansions are
// idempotent: task ids are deterministic), which is also how a job resumes after any crash.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { AwsEngine } from '../aws-engine.ts';
import { eachRecord } from './sqs-batch.ts';

export interface EngineEventMessage {
  type: 'reconcile';
  jobId: string;
}

export function createExpandHandler(engine: () => AwsEngine) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const e = engine();
    const res = await eachRecord(event, async (r) => {
      const m = JSON.parse(r.body) as EngineEventMessage;
      if (m.type !== 'reconcile' || typeof m.jobId !== 'string') {
        throw new Error(`unknown engine event ${r.body.slice(0, 200)}`);
      }
      await e.coordinator.reconcile(m.jobId);
    });
    await e.notifier.drain();
    return res;
  };
}
