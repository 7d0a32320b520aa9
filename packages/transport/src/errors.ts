export type TransportErrorCode =
  | 'BAD_URL'
  | 'LISTEN_FAILED'
  | 'DIAL_FAILED'
  | 'HANDSHAKE_TIMEOUT'
  | 'AUTH_FAILED'
  | 'PROTOCOL_MISMATCH'
  | 'SELF_CONNECTION'
  | 'BAD_FRAME'
  | 'TOO_MANY_CONNECTIONS'
  | 'CLOSED';

/** The only error this package produces. Recognise it by `name` and `code`, not `instanceof`. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: TransportErrorCode;
  /** The peer (node id or address) the error concerns, when known. */
  readonly peer: string | undefined;

  constructor(code: TransportErrorCode, detail: string, options: { peer?: string; cause?: unknown } = {}) {
    super(`${code}: ${detail}`, { cause: options.cause });
    this.code = code;
    this.peer = options.peer;
  }
}

export function isTransportError(value: unknown): value is TransportError {
  return value instanceof Error && value.name === 'TransportError' && 'code' in value;
}
