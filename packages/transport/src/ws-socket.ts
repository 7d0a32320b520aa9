import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import { LiveFrameSocket } from './live-frame-socket';
import type { LiveSocketOptions } from './live-frame-socket';

export type WsSocketOptions = LiveSocketOptions;

/** A `ws` WebSocket as a FrameSocket: listeners' sockets, and dials over TLS. */
export class WsFrameSocket extends LiveFrameSocket {
  constructor(
    private readonly ws: WebSocket,
    options: WsSocketOptions,
  ) {
    super(options);
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) this.deliverBinary(buffer);
      else this.deliverText(buffer.toString('utf8'));
    });
    ws.on('pong', () => this.markAlive());
    ws.on('ping', () => this.markAlive());
    ws.on('close', (code: number, reason: Buffer) => this.onClosed(reason.toString('utf8') || `socket closed (${code})`));
    ws.on('error', (error: Error) => this.onClosed(`socket error: ${error.message}`));
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  protected get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  protected get isFinished(): boolean {
    return this.ws.readyState === WebSocket.CLOSED;
  }

  protected writeFrame(data: string | Uint8Array, binary: boolean, written: () => void): void {
    // ws calls back once the bytes are written out (or failed): either way it is done with them.
    this.ws.send(data, { binary }, () => written());
  }

  protected writeClose(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  protected writePing(): void {
    this.ws.ping();
  }

  protected terminate(): void {
    this.ws.terminate();
  }
}
