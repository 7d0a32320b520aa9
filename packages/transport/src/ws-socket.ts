import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import type { FrameHandlers, FrameSocket } from './frame-socket';

export interface WsSocketOptions {
  /** Above this many queued bytes, `send` waits for the network to drain. */
  highWaterMarkBytes: number;
  /** A ping every interval; no answer by the next one and the connection is dropped. */
  pingIntervalMs: number;
}

/** Close codes 4000–4999 are ours; the reason travels in the close frame too. */
const closeCodeApplication = 4000;
/** A close frame's reason is at most 123 bytes. */
const closeReasonBytesMax = 123;

/** A `ws` WebSocket as a FrameSocket: backpressure from `bufferedAmount`, liveness by ping/pong. */
export class WsFrameSocket implements FrameSocket {
  private handlers: FrameHandlers | null = null;
  private held: (() => void)[] = [];
  private closedReason: string | null = null;
  private alive = true;
  private readonly pinger: ReturnType<typeof setInterval>;
  private forceTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: WsSocketOptions,
  ) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.alive = true;
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.dispatch((h) => (isBinary ? h.binary(buffer) : h.text(buffer.toString('utf8'))));
    });
    // Any sign of the peer counts: its own pings too, so a peer busy sending keeps its link.
    ws.on('pong', () => (this.alive = true));
    ws.on('ping', () => (this.alive = true));
    ws.on('close', (code: number, reason: Buffer) => this.onClosed(reason.toString('utf8') || `socket closed (${code})`));
    ws.on('error', (error: Error) => this.onClosed(`socket error: ${error.message}`));
    this.pinger = setInterval(() => this.ping(), options.pingIntervalMs);
    this.pinger.unref();
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  sendText(text: string): Promise<void> {
    return this.send(text, false);
  }

  sendBinary(data: Uint8Array, released?: () => void): Promise<void> {
    return this.send(data, true, released);
  }

  close(reason: string): void {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(closeCodeApplication, truncateUtf8(reason, closeReasonBytesMax));
    // A peer that never answers the close handshake must not hold the socket open.
    this.forceTimer = setTimeout(() => this.ws.terminate(), 2_000);
    this.forceTimer.unref();
  }

  attach(handlers: FrameHandlers): void {
    this.handlers = handlers;
    const held = this.held;
    this.held = [];
    for (const deliver of held) deliver();
  }

  private dispatch(deliver: (handlers: FrameHandlers) => void): void {
    if (this.handlers) deliver(this.handlers);
    else this.held.push(() => deliver(this.handlers!));
  }

  private send(data: string | Uint8Array, binary: boolean, released?: () => void): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve) => {
      let waiting = false;
      // ws calls back once the bytes are written out (or failed): either way it is done with them.
      this.ws.send(data, { binary }, () => {
        released?.();
        if (waiting) resolve();
      });
      if (this.ws.bufferedAmount < this.options.highWaterMarkBytes) resolve();
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
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!this.alive) {
      // A stalled link (a blackhole, a peer frozen) still looks open to TCP for many minutes.
      this.onClosed(`no frame or pong from the peer in ${this.options.pingIntervalMs * 2} ms`);
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  private onClosed(reason: string): void {
    clearInterval(this.pinger);
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    this.dispatch((h) => h.closed(reason));
  }
}

function truncateUtf8(text: string, bytesMax: number): string {
  let result = text;
  while (Buffer.byteLength(result) > bytesMax) result = result.slice(0, -1);
  return result;
}
