// What the CLI's client sends and receives beside JSON: multipart forms (code uploads) and answers
// behind a redirect (the AWS api function's large answers).
import { MultipartForm } from '../shared/api/multipart.ts';

export interface FormFields {
  fields: Record<string, string>;
  files: Record<string, { filename: string; data: Buffer }>;
}

/** The form as one in-process request body (what the HTTP shells parse a multipart body into). */
export function formBody(form: FormFields): MultipartForm {
  const body = new MultipartForm(0);
  Object.assign(body.fields, form.fields);
  Object.assign(body.files, form.files);
  return body;
}

/**
 * The AWS api function answers what is too large for a Lambda response with a 303 to a presigned
 * S3 URL. It is fetched with no header of ours: the URL carries its own signature, and S3 refuses
 * a second authorization (a SigV4 or bearer header) on it.
 */
export async function answerBehindRedirect(res: Response, hops = 3): Promise<Response> {
  const location = res.headers.get('location');
  if (res.status < 300 || res.status > 308 || !location || hops === 0) return res;
  const next = new URL(location, res.url || undefined);
  if (next.protocol !== 'https:' && next.protocol !== 'http:') return res;
  await res.body?.cancel();
  return answerBehindRedirect(await fetch(next, { redirect: 'manual' }), hops - 1);
}
