export type WatcherErrorCode =
  | 'INVALID_OPTIONS'
  | 'ROOT_MISSING'
  | 'ROOT_NOT_DIRECTORY'
  | 'IGNORE_FILE_UNREADABLE'
  | 'WATCH_FAILED'
  | 'EVENTS_DROPPED'
  | 'LISTENER_FAILED'
  | 'CLOSED';

/** The only error this package produces. Recognise it by `name` and `code`, not `instanceof`. */
export class WatcherError extends Error {
  override readonly name = 'WatcherError';
  readonly code: WatcherErrorCode;

  constructor(code: WatcherErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${code}: ${detail}`, options);
    this.code = code;
  }
}

export function isWatcherError(value: unknown): value is WatcherError {
  return value instanceof Error && value.name === 'WatcherError' && 'code' in value;
}

/** `error` as a WatcherError: kept if it already is one, else wrapped with `code`. */
export function asWatcherError(error: unknown, code: WatcherErrorCode): WatcherError {
  if (isWatcherError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new WatcherError(code, detail, { cause: error });
}
