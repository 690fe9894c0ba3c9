// The base of every error Sluice reports to a user. `code` is stable (machine-readable), `status`
// is the HTTP status the REST API answers with, and `retryable` makes retry policy data.

export class SluiceError extends Error {
  override name = 'SluiceError';
  constructor(
    message: string,
    readonly code: string,
    readonly status = 500,
    options?: ErrorOptions & { retryable?: boolean },
  ) {
    super(message, options);
    this.retryable = options?.retryable ?? false;
  }
  readonly retryable: boolean;

  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** 400: the request or file is not acceptable as given. */
export class ValidationError extends SluiceError {
  override name = 'ValidationError';
  constructor(
    message: string,
    readonly field?: string,
    code = 'VALIDATION_ERROR',
  ) {
    super(message, code, 400);
  }
}

/** 404: a named thing does not exist. */
export class NotFoundError extends SluiceError {
  override name = 'NotFoundError';
  constructor(message: string, code = 'NOT_FOUND') {
    super(message, code, 404);
  }
}

/** 409: it already exists, or the current state forbids the change. */
export class ConflictError extends SluiceError {
  override name = 'ConflictError';
  constructor(message: string, code = 'CONFLICT') {
    super(message, code, 409);
  }
}
