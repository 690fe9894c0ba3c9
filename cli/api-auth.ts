// How the CLI authenticates to a Sluice API: the token of a `sluice serve`, an API key, or SigV4
// with the standard AWS credentials (a deployed API). Used by every HTTP request the CLI makes and
// by `sluice dashboard`'s proxy.
import { CliError } from './errors.ts';

/**
 * How requests to an API authenticate: the token of a `sluice serve` (sent as `Authorization:
 * Bearer`; $SLUICE_API_TOKEN, else the api-token file of the home whose engine is asked), an API
 * key ($SLUICE_API_KEY, sent as x-api-key), or SigV4 with the standard AWS credentials
 * ($SLUICE_API_AUTH=iam, the default for API Gateway hosts), or nothing.
 */
export type ApiAuth =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  | { kind: 'apiKey'; key: string }
  | { kind: 'iam' };

export function apiAuthFor(url: URL, env: NodeJS.ProcessEnv, homeToken?: string): ApiAuth {
  const mode = env.SLUICE_API_AUTH;
  if (mode !== undefined && !['iam', 'apiKey', 'token', 'none'].includes(mode)) {
    throw new CliError(`SLUICE_API_AUTH must be iam, apiKey, token or none (got "${mode}")`);
  }
  if (mode === 'none') return { kind: 'none' };
  if (mode === 'apiKey' || (mode === undefined && env.SLUICE_API_KEY)) {
    if (!env.SLUICE_API_KEY) throw new CliError('SLUICE_API_AUTH=apiKey needs the key in SLUICE_API_KEY');
    return { kind: 'apiKey', key: env.SLUICE_API_KEY };
  }
  if (
    mode === 'iam' ||
    (mode === undefined && /\.execute-api\.[a-z0-9-]+\.amazonaws\.com$/.test(url.hostname))
  )
    return { kind: 'iam' };
  const token = env.SLUICE_API_TOKEN || homeToken;
  if (token) return { kind: 'token', token };
  if (mode === 'token') {
    throw new CliError('SLUICE_API_AUTH=token needs the token in SLUICE_API_TOKEN or $SLUICE_HOME/api-token');
  }
  return { kind: 'none' };
}

/** The headers of a request to `url`: its content type (JSON unless told), and the authorization apiAuthFor() picks. */
export async function authorizedHeaders(
  where: string,
  env: NodeJS.ProcessEnv,
  homeToken: string | undefined,
  method: string,
  url: URL,
  body: string | Uint8Array | undefined,
  contentType = 'application/json',
): Promise<Record<string, string>> {
  const headers: Record<string, string> = body !== undefined ? { 'content-type': contentType } : {};
  const auth = apiAuthFor(url, env, homeToken);
  if (auth.kind === 'token') return { ...headers, authorization: `Bearer ${auth.token}` };
  if (auth.kind === 'apiKey') return { ...headers, 'x-api-key': auth.key };
  if (auth.kind === 'none') return headers;
  // Loaded only here: the AWS SDK's credential chain is needed for signed requests alone.
  const { signApiRequest } = await import('../shared/adapters/aws/api-request-signer.ts');
  try {
    return await signApiRequest({ method, url, headers, ...(body !== undefined ? { body } : {}) }, env);
  } catch (err) {
    throw new CliError(`cannot sign the request to ${where} with AWS credentials: ${(err as Error).message}`);
  }
}
