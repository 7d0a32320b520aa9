import { isUtf8 } from 'node:buffer';

/** RFC 6455 opcodes. */
export const Opcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** RFC 6455 close codes this package sends or reports. */
export const CloseCode = { noStatus: 1005, abnormal: 1006, protocolError: 1002, invalidData: 1007, tooBig: 1009 } as const;

export interface FrameReaderHandlers {
  /** A whole message; `payload` is the reader's to give away: nothing else holds it. */
  message(binary: boolean, payload: Uint8Array): void;
  /** `payload` is a copy (at most 125 bytes), to be echoed in the pong. */
  ping(payload: Buffer): void;
  pong(): void;
  close(code: number, reason: string): void;
  /** The stream broke the protocol; nothing more is read. `code` is the close code to send. */
  violation(code: number, reason: string): void;
}

export interface FrameReaderOptions {
  /** A longer message is a violation (close code 1009). */
  payloadBytesMax: number;
  /** Where an unfragmented binary message of this many bytes is read into; fresh memory if absent. */
  allocateBinary?: (bytes: number) => Uint8Array;
}

const controlPayloadBytesMax = 125;
/** A payload remainder smaller than this is read with what follows it, into the shared buffer. */
const directReadBytesMin = 64 * 1024;
const empty = new Uint8Array(0);

type Stage = 'head' | 'payload' | 'failed';

/**
 * Reads the frames a WebSocket server sends (unmasked, RFC 6455) from chunks that are only
 * valid during `push`: the socket reads into one reused buffer, so receiving allocates nothing
 * but each message's own payload. What the reader copies out of the chunks is headers, small
 * messages and the edges of large ones; their bulk the socket reads in place (`payloadWindow`).
 */
export class FrameReader {
  private stage: Stage = 'head';
  private readonly head = Buffer.alloc(10);
  private headFilled = 0;
  private headNeeded = 2;
  private opcode = 0;
  private fin = false;
  private frameBytes = 0;
  private target: Uint8Array = empty;
  private filled = 0;
  /** Fragments of a data message not yet finished, and its type. */
  private fragments: Uint8Array[] = [];
  private fragmentsBytes = 0;
  private fragmentedBinary = false;

  constructor(
    private readonly handlers: FrameReaderHandlers,
    private readonly options: FrameReaderOptions,
  ) {}

  /**
   * Where the socket may read next, straight into the message being received: the rest of a
   * large payload, so that those bytes are never copied. Null when the next bytes belong in
   * the shared read buffer (a header, a small remainder, whatever follows).
   */
  payloadWindow(): Uint8Array | null {
    const rest = this.frameBytes - this.filled;
    if (this.stage !== 'payload' || rest < directReadBytesMin) return null;
    return this.target.subarray(this.filled, this.filled + rest);
  }

  /** The socket read `length` bytes into the window `payloadWindow` gave. */
  pushIntoWindow(length: number): void {
    this.filled += length;
    if (this.filled === this.frameBytes) this.endFrame();
  }

  push(chunk: Buffer, length = chunk.length): void {
    let offset = 0;
    while (offset < length && this.stage !== 'failed') {
      offset = this.stage === 'head' ? this.readHead(chunk, offset, length) : this.readPayload(chunk, offset, length);
    }
  }

  private readHead(chunk: Buffer, offset: number, length: number): number {
    const take = Math.min(this.headNeeded - this.headFilled, length - offset);
    chunk.copy(this.head, this.headFilled, offset, offset + take);
    this.headFilled += take;
    if (this.headFilled === this.headNeeded) this.parseHead();
    return offset + take;
  }

  private parseHead(): void {
    const head = this.head;
    if (this.headNeeded === 2) {
      this.fin = (head[0]! & 0x80) !== 0;
      this.opcode = head[0]! & 0x0f;
      const length7 = head[1]! & 0x7f;
      const problem = this.checkStart(head[0]! & 0x70, (head[1]! & 0x80) !== 0, length7);
      if (problem) return this.fail(CloseCode.protocolError, problem);
      if (length7 === 126) return void (this.headNeeded = 4);
      if (length7 === 127) return void (this.headNeeded = 10);
      return this.startPayload(length7);
    }
    if (this.headNeeded === 4) return this.startPayload(head.readUInt16BE(2));
    const high = head.readUInt32BE(2);
    // Lengths past 2^53 cannot be numbers; any length that large is over the limit anyway.
    if (high >= 2 ** 21) return this.fail(CloseCode.tooBig, 'frame length beyond 2^53 bytes');
    this.startPayload(high * 2 ** 32 + head.readUInt32BE(6));
  }

  private checkStart(reserved: number, masked: boolean, length7: number): string | null {
    const opcode = this.opcode;
    if (reserved !== 0) return 'reserved bits set (no extension was negotiated)';
    if (masked) return 'masked frame from the server';
    if (opcode >= 0x8) {
      if (opcode !== Opcode.close && opcode !== Opcode.ping && opcode !== Opcode.pong) return `unknown control opcode ${opcode}`;
      if (!this.fin) return 'fragmented control frame';
      if (length7 > controlPayloadBytesMax) return 'control frame longer than 125 bytes';
      return null;
    }
    if (opcode !== Opcode.continuation && opcode !== Opcode.text && opcode !== Opcode.binary) return `unknown data opcode ${opcode}`;
    const inMessage = this.fragments.length > 0;
    if (opcode === Opcode.continuation && !inMessage) return 'continuation frame without a message to continue';
    if (opcode !== Opcode.continuation && inMessage) return 'new message before the last one ended';
    return null;
  }

  private startPayload(bytes: number): void {
    const { payloadBytesMax, allocateBinary } = this.options;
    if (this.opcode < 0x8 && this.fragmentsBytes + bytes > payloadBytesMax) {
      return this.fail(CloseCode.tooBig, `message of more than ${payloadBytesMax} bytes`);
    }
    this.frameBytes = bytes;
    const whole = this.fin && this.opcode === Opcode.binary;
    this.target = whole && allocateBinary ? allocateBinary(bytes) : Buffer.allocUnsafe(bytes);
    this.filled = 0;
    this.stage = 'payload';
    if (bytes === 0) this.endFrame();
  }

  private readPayload(chunk: Buffer, offset: number, length: number): number {
    const take = Math.min(this.frameBytes - this.filled, length - offset);
    chunk.copy(this.target, this.filled, offset, offset + take);
    this.filled += take;
    if (this.filled === this.frameBytes) this.endFrame();
    return offset + take;
  }

  private endFrame(): void {
    const payload = this.target;
    const opcode = this.opcode;
    this.target = empty;
    this.stage = 'head';
    this.headFilled = 0;
    this.headNeeded = 2;
    if (opcode >= 0x8) return this.endControl(opcode, payload);
    if (opcode !== Opcode.continuation) this.fragmentedBinary = opcode === Opcode.binary;
    if (this.fin && this.fragments.length === 0) return this.deliver(this.fragmentedBinary, payload);
    this.fragments.push(payload);
    this.fragmentsBytes += payload.length;
    if (!this.fin) return;
    const whole = Buffer.concat(this.fragments, this.fragmentsBytes);
    this.fragments = [];
    this.fragmentsBytes = 0;
    this.deliver(this.fragmentedBinary, whole);
  }

  private deliver(binary: boolean, payload: Uint8Array): void {
    if (!binary && !isUtf8(payload)) return this.fail(CloseCode.invalidData, 'text message is not valid UTF-8');
    this.handlers.message(binary, payload);
  }

  private endControl(opcode: number, payload: Uint8Array): void {
    const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (opcode === Opcode.ping) return this.handlers.ping(bytes);
    if (opcode === Opcode.pong) return this.handlers.pong();
    if (bytes.length === 0) return this.handlers.close(CloseCode.noStatus, '');
    if (bytes.length === 1) return this.fail(CloseCode.protocolError, 'close frame with a one-byte payload');
    const reason = bytes.subarray(2);
    if (!isUtf8(reason)) return this.fail(CloseCode.invalidData, 'close reason is not valid UTF-8');
    this.handlers.close(bytes.readUInt16BE(0), reason.toString('utf8'));
  }

  private fail(code: number, reason: string): void {
    this.stage = 'failed';
    this.handlers.violation(code, reason);
  }
}
