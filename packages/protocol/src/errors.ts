export type ProtocolErrorCode =
  | 'FRAME_TOO_LARGE'
  | 'INVALID_JSON'
  | 'INVALID_MESSAGE'
  | 'INVALID_BLOCK_FRAME'
  | 'TOO_MANY_RECORDS'
  | PathErrorCode;

export type PathErrorCode =
  | 'PATH_EMPTY'
  | 'PATH_ABSOLUTE'
  | 'PATH_TRAVERSAL'
  | 'PATH_DOT_SEGMENT'
  | 'PATH_BACKSLASH'
  | 'PATH_NUL'
  | 'PATH_CONTROL_CHAR'
  | 'PATH_INVALID_UNICODE'
  | 'PATH_EMPTY_SEGMENT'
  | 'PATH_STATE_DIR'
  | 'PATH_SEGMENT_TOO_LONG'
  | 'PATH_TOO_LONG'
  | 'PATH_NOT_NORMALIZED';

/** The only error this package produces. Recognise it by `name` and `code`, not `instanceof`. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${code}: ${detail}`, options);
    this.code = code;
  }
}

export type Result<T, E = ProtocolError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const fail = (error: ProtocolError): Result<never> => ({ ok: false, error });

export function isProtocolError(value: unknown): value is ProtocolError {
  return value instanceof Error && value.name === 'ProtocolError' && 'code' in value;
}
