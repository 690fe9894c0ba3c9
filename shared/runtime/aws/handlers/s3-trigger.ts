// s3-trigger: a pipeline descriptor (JSON or YAML) put into the trigger bucket runs it. A full
// descriptor runs as given; `{name, flowInput?, ...}` without nodes runs the stored pipeline.
// Success writes `<key>.job.json` ({jobId, status}); invalid input writes `<key>.error.json`
// ({error: {code, message}}) beside it and starts nothing. Both markers are ignored as triggers.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { SluiceError } from '../../../errors.ts';
import { parsePipelineText } from '../../../pipeline/parse-text.ts';
import type { AwsEngine } from '../aws-engine.ts';

export const TRIGGER_MARKERS = ['.error.json', '.job.json'] as const;

export function isTriggerMarker(key: string): boolean {
  return TRIGGER_MARKERS.some((m) => key.endsWith(m));
}

export interface TriggerResult {
  key: string;
  jobId?: string;
  error?: { code: string; message: string };
}

export function createS3TriggerHandler(engine: () => AwsEngine) {
  return async (event: S3Event): Promise<TriggerResult[]> => {
    const e = engine();
    const out: TriggerResult[] = [];
    for (const r of event.Records ?? []) {
      const bucket = r.s3.bucket.name;
      const key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
      if (isTriggerMarker(key)) continue;
      const obj = await e.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = await (obj.Body as { transformToString(): Promise<string> }).transformToString();
      const put = (suffix: string, body: unknown) =>
        e.s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key + suffix,
            Body: JSON.stringify(body, null, 2),
            ContentType: 'application/json',
          }),
        );
      try {
        const raw = parsePipelineText(text, key) as Record<string, unknown>;
        const started =
          raw && typeof raw === 'object' && !('nodes' in raw) && typeof raw.name === 'string'
            ? await e.service.execStored(raw, { kind: 's3' })
            : await e.service.execRaw(raw, { kind: 's3' });
        await put('.job.json', { ...started, source: `s3://${bucket}/${key}` });
        out.push({ key, jobId: started.jobId });
      } catch (err) {
        if (!(err instanceof SluiceError) || err.status >= 500) throw err; // retried by Lambda
        const error = { code: err.code, message: err.message };
        await put('.error.json', { error, source: `s3://${bucket}/${key}` });
        out.push({ key, error });
      }
    }
    await e.notifier.drain();
    return out;
  };
}
