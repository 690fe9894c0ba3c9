// The CodeStore over a BlobStore: an uploaded archive is sniffed (gzip or tar, whatever its name),
// bounded (MAX_CODE_ARCHIVE_BYTES; what it expands to, and its entries) and extracted once into a
// scratch directory with the same safe extractor the workers use, so a hostile archive is refused
// at upload (400) rather than failing every task later; then it is stored under its SHA-256.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SluiceError, ValidationError } from '../errors.ts';
import type { AlgorithmFileInfo } from '../pipeline/types.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import {
  CODE_UPLOAD_PREFIX,
  type CodeStore,
  codeBlobKey,
  type UploadedCode,
  type UploadTarget,
} from '../ports/code-store.ts';
import { extractCodeArchive } from './code-archive.ts';

/** The largest code archive accepted (the embedded API reads bodies up to 64 MiB). */
export const MAX_CODE_ARCHIVE_BYTES = 50 * 1024 * 1024;
/** What an archive may expand to, and how many entries it may hold. */
export const MAX_CODE_EXTRACTED_BYTES = 512 * 1024 * 1024;
export const MAX_CODE_ENTRIES = 20_000;

const mib = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;

/** gzip or tar, from the content (the file name is the client's and may say anything). */
function archiveKind(data: Buffer): AlgorithmFileInfo['fileExt'] {
  if (data[0] === 0x1f && data[1] === 0x8b) return 'tar.gz';
  if (data.length >= 512 && data.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  throw new ValidationError('the code archive ("file") must be a .tar.gz, .tgz or .tar', 'file');
}

/** How long a presigned upload URL is valid. */
const UPLOAD_URL_SECONDS = 900;
const UPLOAD_ID = /^[0-9a-f]{32}$/;

export class BlobCodeStore implements CodeStore {
  constructor(
    readonly blobs: BlobStore,
    /** What an upload may expand to (a Lambda function's /tmp holds 512 MB by default). */
    private readonly maxExtractedBytes = MAX_CODE_EXTRACTED_BYTES,
    /** A URL that PUTs the blob `key` (S3: presigned), where the API's requests are too small. */
    private readonly presignPut?: (key: string, expiresInSeconds: number) => Promise<string>,
  ) {}

  async uploadTarget(): Promise<UploadTarget> {
    if (!this.presignPut) {
      throw new SluiceError(
        `this API takes code archives in the request itself (up to ${mib(MAX_CODE_ARCHIVE_BYTES)}): send the file in the form`,
        'NOT_IMPLEMENTED',
        501,
      );
    }
    const uploadId = randomBytes(16).toString('hex');
    const url = await this.presignPut(`${CODE_UPLOAD_PREFIX}${uploadId}`, UPLOAD_URL_SECONDS);
    return { uploadId, url, method: 'PUT', expiresInSeconds: UPLOAD_URL_SECONDS };
  }

  async takeUpload(uploadId: string): Promise<Buffer> {
    if (!UPLOAD_ID.test(uploadId))
      throw new ValidationError('"upload" must be an uploadId (32 hex digits)', 'upload');
    let data: Buffer;
    try {
      data = await this.blobs.get(`${CODE_UPLOAD_PREFIX}${uploadId}`);
    } catch {
      throw new ValidationError(`nothing was uploaded for ${uploadId} (or it was used already)`, 'upload');
    }
    await this.blobs.delete(`${CODE_UPLOAD_PREFIX}${uploadId}`);
    return data;
  }

  async store(file: UploadedCode): Promise<AlgorithmFileInfo> {
    if (file.data.length > MAX_CODE_ARCHIVE_BYTES) {
      throw new SluiceError(
        `code archive "${file.filename}" is ${mib(file.data.length)}; at most ${mib(MAX_CODE_ARCHIVE_BYTES)} is accepted`,
        'TOO_LARGE',
        413,
      );
    }
    const fileExt = archiveKind(file.data);
    await checkArchive(file, fileExt, this.maxExtractedBytes);
    const info: AlgorithmFileInfo = {
      checksum: createHash('sha256').update(file.data).digest('hex'),
      fileSize: file.data.length,
      fileExt,
    };
    await this.blobs.put(codeBlobKey(info), file.data);
    return info;
  }

  /** The archive's bytes (a worker fetching uploaded code). */
  fetch(info: AlgorithmFileInfo): Promise<Buffer> {
    return this.blobs.get(codeBlobKey(info));
  }
}

/** Extracts the archive into a scratch directory, as a worker would, and removes it again. */
async function checkArchive(
  file: UploadedCode,
  ext: AlgorithmFileInfo['fileExt'],
  maxBytes: number,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-code-check-'));
  try {
    const archive = join(dir, `code.${ext}`);
    await writeFile(archive, file.data);
    const root = join(dir, 'x');
    await mkdir(root);
    await extractCodeArchive(archive, root, {
      maxBytes,
      maxEntries: MAX_CODE_ENTRIES,
    });
  } catch (err) {
    const why = (err as Error).message.replace(/^code archive /, '');
    throw new ValidationError(`code archive "${file.filename}": ${why}`, 'file');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
