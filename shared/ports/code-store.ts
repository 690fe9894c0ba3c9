// Uploaded algorithm code (`POST /store/algorithms/apply`): archives kept in the engine's object
// store under `code/<sha256>.<ext>` (local blobs embedded, S3 on AWS), named by a definition's
// `fileInfo` and fetched by the workers (runner/code-store.ts implements it).
import type { AlgorithmFileInfo } from '../pipeline/types.ts';

export interface UploadedCode {
  filename: string;
  data: Buffer;
}

export interface CodeStore {
  /**
   * Checks an archive as a worker will extract it (a hostile one is a ValidationError, one over
   * the size cap a 413) and stores it; what a definition's `fileInfo` says of it.
   */
  store(file: UploadedCode): Promise<AlgorithmFileInfo>;
  /**
   * Where a client PUTs an archive too large for the API's requests (AWS: a presigned S3 URL);
   * a 501 where requests carry archives of any accepted size (`sluice serve`).
   */
  uploadTarget(): Promise<UploadTarget>;
  /** The archive PUT for `uploadId` (removed from where it waited). */
  takeUpload(uploadId: string): Promise<Buffer>;
}

export interface UploadTarget {
  uploadId: string;
  url: string;
  method: 'PUT';
  expiresInSeconds: number;
}

/** Where an uploaded archive lives (content-addressed: the same code is one object). */
/** Where stored code archives live in the code store's bucket (AWS: the code bucket). */
export const CODE_KEY_PREFIX = 'code/';
/** Where archives PUT through a presigned URL wait until they are applied (expired after a day). */
export const CODE_UPLOAD_PREFIX = 'uploads/';

export function codeBlobKey(info: AlgorithmFileInfo): string {
  return `${CODE_KEY_PREFIX}${info.checksum}.${info.fileExt}`;
}
