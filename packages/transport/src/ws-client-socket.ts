import type { Socket } from 'node:net';
import { LiveFrameSocket, closeReasonBytesMax, truncateUtf8 } from './live-frame-socket';
import type { LiveSocketOptions } from './live-frame-socket';
import { clientFrameHeader } from './ws-frame-header';
import { CloseCode, FrameReader, Opcode } from './ws-frame-reader';
import type { FrameReaderOptions } from './ws-frame-reader';

/** How long a close handshake may take before the socket is dropped. */
const closeLingerMs = 2_000;

/**
 * The dialing side of a WebSocket, on a socket whose handshake is done: frames are parsed by
 * `FrameReader` from what the socket reads into its one reused buffer (`push`), or, for the bulk
 * of a large payload, straight into the message (`readWindow`, then `pushIntoWindow`).
 */
export class ClientFrameSocket extends LiveFrameSocket {
  private readonly reader: FrameReader;
  private closeSent = false;
  /** The reason to report once the socket is gone: the peer's close frame, or our own verdict. */
  private closeText: string | null = null;
  private ending = false;
  private finished = false;

  constructor(
    private readonly socket: Socket,
    reading: FrameReaderOptions,
    options: LiveSocketOptions,
  ) {
    super(options);
    this.reader = new FrameReader(
      {
        message: (binary, payload) => (binary ? this.deliverBinary(payload) : this.deliverText(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'))),
        ping: (payload) => {
          this.markAlive();
          if (this.isOpen) this.writeControl(Opcode.pong, payload);
        },
        pong: () => this.markAlive(),
        close: (code, reason) => this.onCloseFrame(code, reason),
        violation: (code, reason) => this.fail(code, `invalid frame from the peer: ${reason}`),
      },
      reading,
    );
    socket.on('close', () => {
      this.finished = true;
      this.onClosed(this.closeText ?? `socket closed (${CloseCode.abnormal})`);
    });
    socket.on('error', (error: Error) => this.onClosed(`socket error: ${error.message}`));
  }

  /** Bytes the socket read, valid only during this call. */
  push(chunk: Buffer, length: number): void {
    if (!this.finished) this.reader.push(chunk, length);
  }

  /** Where the socket should read next, if straight into a message (see `FrameReader.payloadWindow`). */
  readWindow(): Uint8Array | null {
    return this.finished ? null : this.reader.payloadWindow();
  }

  /** The socket read `length` bytes into the window `readWindow` gave. */
  pushIntoWindow(length: number): void {
    if (!this.finished) this.reader.pushIntoWindow(length);
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  protected get isOpen(): boolean {
    return !this.closeSent && !this.ending && !this.finished;
  }

  protected get isFinished(): boolean {
    return this.finished || this.ending;
  }

  protected writeFrame(data: string | Uint8Array, binary: boolean, written: () => void): void {
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.socket.cork();
    this.socket.write(clientFrameHeader(binary ? Opcode.binary : Opcode.text, payload.byteLength));
    this.socket.write(payload, () => written());
    this.socket.uncork();
  }

  protected writeClose(code: number, reason: string): void {
    // The peer echoes our close frame and then ends; the close handshake is over when we end too.
    if (this.sendCloseFrame(closePayload(code, reason))) this.closeText ??= reason;
  }

  protected writePing(): void {
    this.writeControl(Opcode.ping, Buffer.alloc(0));
  }

  protected terminate(): void {
    this.socket.destroy();
  }

  private writeControl(opcode: number, payload: Buffer): void {
    this.socket.cork();
    this.socket.write(clientFrameHeader(opcode, payload.length));
    this.socket.write(payload);
    this.socket.uncork();
  }

  private onCloseFrame(code: number, reason: string): void {
    this.closeText ??= reason || `socket closed (${code})`;
    this.sendCloseFrame(code === CloseCode.noStatus ? Buffer.alloc(0) : closePayload(code, reason));
    this.end();
  }

  /** Breaks off after a protocol violation: a close frame saying why, then the report. */
  private fail(code: number, reason: string): void {
    this.closeText = reason;
    this.sendCloseFrame(closePayload(code, truncateUtf8(reason, closeReasonBytesMax)));
    this.end();
    this.onClosed(reason);
  }

  /** Our one close frame; false if it was sent already or the socket is gone. */
  private sendCloseFrame(payload: Buffer): boolean {
    if (this.closeSent || this.finished) return false;
    this.closeSent = true;
    this.writeControl(Opcode.close, payload);
    return true;
  }

  private end(): void {
    if (this.ending || this.finished) return;
    this.ending = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), closeLingerMs).unref();
  }
}

function closePayload(code: number, reason: string): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2, 'utf8');
  return payload;
}
