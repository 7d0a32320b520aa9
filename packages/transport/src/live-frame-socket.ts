import type { FrameHandlers, FrameSocket } from './frame-socket';

export interface LiveSocketOptions {
  /** Above this many queued bytes, `send` waits for the network to drain. */
  highWaterMarkBytes: number;
  /** A ping every interval; no answer by the next one and the connection is dropped. */
  pingIntervalMs: number;
}

/** Close codes 4000–4999 are ours; the reason travels in the close frame too. */
export const closeCodeApplication = 4000;
/** A close frame's reason is at most 123 bytes. */
export const closeReasonBytesMax = 123;
/** A peer that never answers the close handshake must not hold the socket open longer. */
const closeHandshakeMs = 2_000;

/**
 * What every WebSocket FrameSocket shares, whoever parses the frames: frames held until
 * `attach`, backpressure from the bytes queued, liveness by ping/pong, one `closed` per socket.
 */
export abstract class LiveFrameSocket implements FrameSocket {
  private handlers: FrameHandlers | null = null;
  private held: (() => void)[] = [];
  private closedReason: string | null = null;
  private alive = true;
  private readonly pinger: ReturnType<typeof setInterval>;
  private forceTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly options: LiveSocketOptions) {
    this.pinger = setInterval(() => this.ping(), options.pingIntervalMs);
    this.pinger.unref();
  }

  abstract get bufferedAmount(): number;
  /** Frames can be sent. */
  protected abstract get isOpen(): boolean;
  /** The connection is gone for good. */
  protected abstract get isFinished(): boolean;
  /** Queues one frame; `written` runs once the socket is done with `data` (sent or failed). */
  protected abstract writeFrame(data: string | Uint8Array, binary: boolean, written: () => void): void;
  protected abstract writeClose(code: number, reason: string): void;
  protected abstract writePing(): void;
  /** Drops the connection at once, without a close handshake. */
  protected abstract terminate(): void;

  sendText(text: string | Uint8Array): Promise<void> {
    return this.send(text, false);
  }

  sendBinary(data: Uint8Array, released?: () => void): Promise<void> {
    return this.send(data, true, released);
  }

  close(reason: string): void {
    if (this.isFinished) return;
    this.writeClose(closeCodeApplication, truncateUtf8(reason, closeReasonBytesMax));
    this.forceTimer = setTimeout(() => this.terminate(), closeHandshakeMs);
    this.forceTimer.unref();
  }

  attach(handlers: FrameHandlers): void {
    this.handlers = handlers;
    const held = this.held;
    this.held = [];
    for (const deliver of held) deliver();
  }

  /** Any sign of the peer counts: its own pings too, so a peer busy sending keeps its link. */
  protected markAlive(): void {
    this.alive = true;
  }

  protected deliverText(text: string): void {
    this.alive = true;
    this.dispatch((h) => h.text(text));
  }

  protected deliverBinary(data: Uint8Array): void {
    this.alive = true;
    this.dispatch((h) => h.binary(data));
  }

  /** Reports the end once, whichever way it came, and drops what is left of the connection. */
  protected onClosed(reason: string): void {
    clearInterval(this.pinger);
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    if (!this.isFinished) this.terminate();
    this.dispatch((h) => h.closed(reason));
  }

  private dispatch(deliver: (handlers: FrameHandlers) => void): void {
    if (this.handlers) deliver(this.handlers);
    else this.held.push(() => deliver(this.handlers!));
  }

  private send(data: string | Uint8Array, binary: boolean, released?: () => void): Promise<void> {
    if (!this.isOpen) {
      released?.();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let waiting = false;
      this.writeFrame(data, binary, () => {
        released?.();
        if (waiting) resolve();
      });
      if (this.bufferedAmount < this.options.highWaterMarkBytes) resolve();
      else waiting = true;
    });
  }

  // Timers run before pending input is read. After this process was stalled (a long GC, a busy
  // loop, a starved CPU), the peer's answer can be waiting in the socket when the timer fires, so
  // the judgment waits until that input has been read (setImmediate runs after the poll phase).
  private ping(): void {
    setImmediate(() => this.judgeLiveness());
  }

  private judgeLiveness(): void {
    if (!this.isOpen) return;
    if (!this.alive) {
      // A stalled link (a blackhole, a peer frozen) still looks open to TCP for many minutes.
      this.onClosed(`no frame or pong from the peer in ${this.options.pingIntervalMs * 2} ms`);
      return;
    }
    this.alive = false;
    this.writePing();
  }
}

export function truncateUtf8(text: string, bytesMax: number): string {
  let result = text;
  while (Buffer.byteLength(result) > bytesMax) result = result.slice(0, -1);
  return result;
}
