export type SyncErrorCode =
  | 'INVALID_OPTIONS'
  | 'STATE_DIR'
  | 'INDEX_CORRUPT'
  | 'UNSAFE_PATH'
  | 'IO'
  | 'HASH_MISMATCH'
  | 'NO_SOURCE'
  | 'PEER_ERROR'
  | 'DISK_CHANGED'
  | 'STOPPED'
  | 'DELETES_HELD';

/** The only error this package produces. Recognise it by `name` and `code`, not `instanceof`. */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  readonly code: SyncErrorCode;
  readonly path: string | undefined;

  constructor(code: SyncErrorCode, detail: string, options?: { cause?: unknown; path?: string }) {
    super(`${code}: ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options?.path;
  }
}

export function isSyncError(value: unknown): value is SyncError {
  return value instanceof Error && value.name === 'SyncError' && 'code' in value;
}

/** errno code of a Node error, or undefined. */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
