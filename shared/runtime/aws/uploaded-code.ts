// How an AWS worker reads uploaded algorithm code: from the code bucket (SLUICE_CODE_BUCKET, else
// the blob bucket), with a client made on the first upload it meets (most workers never need one).

import { S3BlobStore } from '../../adapters/aws/s3-blob-store.ts';
import { createS3Client } from '../../adapters/aws/s3-client.ts';
import type { AlgorithmFileInfo } from '../../pipeline/types.ts';
import { BlobCodeStore } from '../../runner/code-store.ts';
import { awsConfigFromEnv } from './aws-config.ts';

export function uploadedCodeReader(env: NodeJS.ProcessEnv): (info: AlgorithmFileInfo) => Promise<Buffer> {
  let store: BlobCodeStore | undefined;
  return (info) => {
    store ??= new BlobCodeStore(new S3BlobStore(createS3Client(env), awsConfigFromEnv(env).codeBucket, ''));
    return store.fetch(info);
  };
}
