// The port through which the cache reaches S3: where a path-style request goes and how it is signed.
// The cache signs with its OWN credentials and endpoint (readers' signatures are for the cache, not
// the origin); shared/adapters/aws/s3-upstream-signer.ts implements this with SigV4 and the standard
// AWS credential chain, and the command that starts the cache composes it in.

/** A request ready to send: absolute URL and every header (signature included). */
export interface UpstreamRequest {
  url: string;
  headers: Record<string, string>;
}

export interface S3Target {
  bucket: string;
  /** '' for a request on the bucket itself (listing). Not escaped. */
  key: string;
  /** Query parameters, decoded (escaped by the signer). */
  query: [string, string][];
}

export interface S3Upstream {
  /** The endpoint, as named in errors (and part of every S3 object's cache key). */
  readonly origin: string;
  /**
   * Signs a request. `headers` are sent as given (lower-case names); the signer adds host, date,
   * token and authorization, and `x-amz-content-sha256: UNSIGNED-PAYLOAD` unless one is given.
   */
  sign(method: string, target: S3Target, headers: Record<string, string>): Promise<UpstreamRequest>;
}
