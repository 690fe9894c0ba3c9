// POST /store/algorithms/apply (HKube's build API, without the image build): a definition
// (`payload`, JSON) and optionally its code (`file`, a .tar.gz or .tar), as multipart/form-data.
// The engine's CodeStore checks the archive and keeps it in the object store; the definition names
// it in `fileInfo`, so a client that cannot see the server's disk deploys code all the same.
import { ConflictError, ValidationError } from '../errors.ts';
import { validateAlgorithm } from '../pipeline/index.ts';
import type { AlgorithmDefinition } from '../pipeline/types.ts';
import type { UploadedCode } from '../ports/code-store.ts';
import { refuseMissingField, versioned } from './algorithm-versions.ts';
import type { ApiDeps } from './api-deps.ts';
import { MultipartForm } from './multipart.ts';
import { onlyFields } from './request-body.ts';

function parseJsonField(form: MultipartForm, field: string): unknown {
  const text = form.fields[field];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(
      `multipart field "${field}" is not valid JSON: ${(err as Error).message}`,
      field,
    );
  }
}

/** The archive PUT to the URL of `POST /store/algorithms/apply/upload` (uploadTarget). */
async function uploaded(deps: ApiDeps, uploadId: string | undefined): Promise<UploadedCode | undefined> {
  if (uploadId === undefined) return undefined;
  if (!deps.codeStore) throw new ValidationError('this API cannot store code archives', 'upload');
  return { filename: `upload ${uploadId}`, data: await deps.codeStore.takeUpload(uploadId) };
}

/** POST /store/algorithms/apply/upload: where to PUT an archive too large for a request. */
export function uploadTarget(deps: ApiDeps) {
  if (!deps.codeStore) throw new ValidationError('this API cannot store code archives', 'body');
  return deps.codeStore.uploadTarget();
}

export async function applyAlgorithm(deps: ApiDeps, body: unknown) {
  if (!(body instanceof MultipartForm)) {
    throw new ValidationError(
      'send multipart/form-data with the fields "payload" (the definition, JSON) and "file" (the code archive)',
      'body',
    );
  }
  onlyFields(body.fields, ['payload', 'options', 'upload'], 'the form of POST /store/algorithms/apply');
  onlyFields(body.files, ['file'], 'the files of POST /store/algorithms/apply');
  const payload = parseJsonField(body, 'payload') ?? refuseMissingField('payload');
  const options = (parseJsonField(body, 'options') ?? {}) as Record<string, unknown>;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError('multipart field "options" must be a JSON object', 'options');
  }
  onlyFields(options, ['setAsCurrent', 'forceUpdate'], 'options');
  if (options.setAsCurrent !== undefined && typeof options.setAsCurrent !== 'boolean') {
    throw new ValidationError('options.setAsCurrent must be true or false', 'options.setAsCurrent');
  }
  if (body.fields.upload !== undefined && body.files.file) {
    throw new ValidationError('send the code as "file" or as "upload" (an uploadId), not both', 'upload');
  }
  const file = body.files.file ?? (await uploaded(deps, body.fields.upload));
  const def: Record<string, unknown> =
    payload && typeof payload === 'object' && !Array.isArray(payload) ? { ...payload } : {};
  // The client's codePath is a path on its own disk: the uploaded archive replaces it.
  if (file) {
    delete def.codePath;
    delete def.fileInfo;
  }
  let a: AlgorithmDefinition = validateAlgorithm(file ? def : payload);
  if (deps.builtins.has(a.name)) {
    throw new ConflictError(`"${a.name}" is a built-in algorithm; choose another name`, 'BUILTIN_ALGORITHM');
  }
  const messages: string[] = [];
  if (file) {
    if (!deps.codeStore) throw new ValidationError('this API cannot store code archives', 'file');
    const fileInfo = await deps.codeStore.store(file);
    a = { ...a, fileInfo };
    messages.push(`stored code ${file.filename} (${file.data.length} bytes, sha256 ${fileInfo.checksum})`);
  }
  const current = await deps.registry.getAlgorithm(a.name);
  const { algorithm, created, semver } = await versioned(deps, a, current);
  messages.push(
    created
      ? `created version ${algorithm.version} (${semver}) of algorithm ${a.name}`
      : `algorithm ${a.name} is unchanged: its current version ${algorithm.version} is kept`,
  );
  if (options.setAsCurrent === false && current) {
    messages.push(`the current version stays ${current.version ?? '(unversioned)'}`);
  } else {
    await deps.registry.putAlgorithm(algorithm, 'upsert');
    deps.onAlgorithmsChanged?.();
  }
  return { messages, algorithm, created };
}
