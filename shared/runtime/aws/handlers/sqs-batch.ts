// SQS partial batch failures: every record is handled on its own and only the ones that threw are
// reported back (`batchItemFailures`), so one poison message never fails its whole batch.
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export async function eachRecord(
  event: SQSEvent,
  handle: (record: SQSRecord) => Promise<void>,
  onError: (record: SQSRecord, err: unknown) => void = (r, err) =>
    process.emitWarning(`message ${r.messageId}: ${(err as Error)?.message ?? String(err)}`),
): Promise<SQSBatchResponse> {
  const failures: SQSBatchItemFailure[] = [];
  await Promise.all(
    event.Records.map(async (r) => {
      try {
        await handle(r);
      } catch (err) {
        onError(r, err);
        failures.push({ itemIdentifier: r.messageId });
      }
    }),
  );
  return { batchItemFailures: failures };
}
