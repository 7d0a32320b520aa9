export type ConflictErrorCode =
  | 'PATH_MISMATCH'
  | 'INVALID_PATH'
  | 'INVALID_NODE_ID'
  | 'INVALID_TIME';

/** The only error this package produces. Recognise it by `name` and `code`, not `instanceof`. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  readonly code: ConflictErrorCode;

  constructor(code: ConflictErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${code}: ${detail}`, options);
    this.code = code;
  }
}

export function isConflictError(value: unknown): value is ConflictError {
  return value instanceof Error && value.name === 'ConflictError' && 'code' in value;
}
