export type DaemonErrorCode =
  | 'USAGE'
  | 'NO_SECRET'
  | 'SECRET_FILE'
  | 'HTTP_LISTEN';

/** The only error this app produces. Recognise it by `name` and `code`, not `instanceof`. */
export class DaemonError extends Error {
  override readonly name = 'DaemonError';
  readonly code: DaemonErrorCode;
  /** The message without the code prefix, for people reading a terminal. */
  readonly detail: string;

  constructor(code: DaemonErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${code}: ${detail}`, options);
    this.code = code;
    this.detail = detail;
  }
}

export function isDaemonError(value: unknown): value is DaemonError {
  return value instanceof Error && value.name === 'DaemonError' && 'code' in value;
}
