// s3-trigger: a pipeline descriptor (JSON or YAML) put into the trigger bucket under
// TRIGGER_UPLOAD_PREFIX runs it. A full descriptor runs as given; `{name, flowInput?, ...}`
// without nodes runs the stored pipeline. Success writes `jobs/<key>.job.json` ({jobId, status});
// invalid input writes `jobs/<key>.error.json` and starts nothing. The markers sit outside the
// watched prefix, so they never trigger. In AWS the S3 events arrive through an SQS queue (with a
// DLQ); S3 delivers at least once and Lambda retries, so the run's job id is derived from the
// object's event (key + sequencer, else ETag): a duplicate event finds its job and starts nothing.
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { TRIGGER_MARKER_PREFIX, TRIGGER_UPLOAD_PREFIX } from '../../../adapters/aws/config.ts';
import { ConflictError, SluiceError } from '../../../errors.ts';
import { parsePipelineText } from '../../../pipeline/parse-text.ts';
import type { AwsEngine } from '../aws-engine.ts';
import { eachRecord } from './sqs-batch.ts';

export const TRIGGER_MARKERS = ['.error.json', '.job.json'] as const;

export function isTriggerMarker(key: string): boolean {
  return TRIGGER_MARKERS.some((m) => key.endsWith(m));
}

/** True for keys that start a run: under the upload prefix, and not a marker. */
export function isTriggerKey(key: string): boolean {
  return key.startsWith(TRIGGER_UPLOAD_PREFIX) && !isTriggerMarker(key);
}

/** Where the marker of a descriptor goes (outside the watched prefix). */
export function markerKey(key: string, suffix: (typeof TRIGGER_MARKERS)[number]): string {
  return `${TRIGGER_MARKER_PREFIX}${key}${suffix}`;
}

export interface TriggerResult {
  key: string;
  jobId?: string;
  /** The event was a duplicate of one that already started `jobId`. */
  duplicate?: boolean;
  error?: { code: string; message: string };
}

/** The run's job id: the same for every delivery of one S3 event, new for each upload. */
export function triggerJobId(pipelineName: string, bucket: string, record: S3EventRecord): string {
  const o = record.s3.object;
  const version = o.sequencer || o.eTag || '';
  const digest = createHash('sha256')
    .update(`${bucket}\n${o.key}\n${o.versionId ?? ''}\n${version}`)
    .digest('hex');
  return `${pipelineName.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-s${digest.slice(0, 16)}`;
}

export function createS3TriggerHandler(engine: () => AwsEngine) {
  return async (event: S3Event): Promise<TriggerResult[]> => {
    const e = engine();
    const out: TriggerResult[] = [];
    for (const r of event.Records ?? []) {
      const result = await startFromRecord(e, r);
      if (result) out.push(result);
    }
    await e.notifier.drain();
    return out;
  };
}

/** The deployed shape: S3 → SQS → this function; each message holds one S3 notification. */
export function createS3TriggerQueueHandler(engine: () => AwsEngine) {
  const handle = createS3TriggerHandler(engine);
  return (event: SQSEvent): Promise<SQSBatchResponse> =>
    eachRecord(event, async (m) => {
      const body = JSON.parse(m.body) as Partial<S3Event> & { Event?: string };
      if (body.Event === 's3:TestEvent' || !body.Records) return; // sent once when set up
      await handle(body as S3Event);
    });
}

async function startFromRecord(e: AwsEngine, r: S3EventRecord): Promise<TriggerResult | undefined> {
  const bucket = r.s3.bucket.name;
  const key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
  if (!isTriggerKey(key)) return undefined;
  const obj = await e.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = await (obj.Body as { transformToString(): Promise<string> }).transformToString();
  const put = (suffix: (typeof TRIGGER_MARKERS)[number], body: unknown) =>
    e.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: markerKey(key, suffix),
        Body: JSON.stringify(body, null, 2),
        ContentType: 'application/json',
      }),
    );
  let jobId: string | undefined;
  try {
    const raw = parsePipelineText(text, key) as Record<string, unknown>;
    const name = raw && typeof raw === 'object' && typeof raw.name === 'string' ? raw.name : 'pipeline';
    jobId = triggerJobId(name, bucket, r);
    const existing = await e.jobs.getJob(jobId);
    if (existing) {
      await put('.job.json', { jobId, status: existing.status, source: `s3://${bucket}/${key}` });
      return { key, jobId, duplicate: true };
    }
    const started =
      raw && typeof raw === 'object' && !('nodes' in raw) && typeof raw.name === 'string'
        ? await e.service.execStored(raw, { kind: 's3' }, { jobId })
        : await e.service.execRaw(raw, { kind: 's3' }, { jobId });
    await put('.job.json', { ...started, source: `s3://${bucket}/${key}` });
    return { key, jobId: started.jobId };
  } catch (err) {
    // Two deliveries of one event at once: the second finds the job the first created.
    if (err instanceof ConflictError && jobId && (await e.jobs.getJob(jobId)))
      return { key, jobId, duplicate: true };
    if (!(err instanceof SluiceError) || err.status >= 500) throw err; // retried, then the DLQ
    const error = { code: err.code, message: err.message };
    await put('.error.json', { error, source: `s3://${bucket}/${key}` });
    return { key, error };
  }
}
