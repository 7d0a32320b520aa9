/**
 * The little a peer session needs from a socket: ordered text and binary frames, a close with a
 * reason, and backpressure. WebSockets and the in-memory network both provide it, so the
 * handshake and validation code is shared and tested once.
 */
export interface FrameSocket {
  /**
   * Resolves once the frame has been handed to the network (or the socket closed). `text` may be
   * given as its UTF-8 bytes (a large frame built without a string of its own).
   */
  sendText(text: string | Uint8Array): Promise<void>;
  /** `released`, if given, is called once, when the socket holds no reference to `data` (at once if it was not sent). */
  sendBinary(data: Uint8Array, released?: () => void): Promise<void>;
  /** Bytes queued but not yet written. */
  readonly bufferedAmount: number;
  close(reason: string): void;
  /**
   * Starts delivery. Frames that arrived before are held until then, so nothing the peer sends
   * right after the socket opens is lost. `closed` is called once, whoever closed it.
   */
  attach(handlers: FrameHandlers): void;
}

export interface FrameHandlers {
  text(text: string): void;
  binary(data: Uint8Array): void;
  closed(reason: string): void;
}
