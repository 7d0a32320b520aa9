import { describe, expect, it } from 'vitest';
import { CloseCode, FrameReader, Opcode } from './ws-frame-reader';
import type { FrameReaderOptions } from './ws-frame-reader';

/** A frame as a server sends it (RFC 6455 §5.2); `mask` and `rsv` only to build bad ones. */
function serverFrame(opcode: number, payload: Uint8Array | string, options: { fin?: boolean; mask?: boolean; rsv?: number } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const lengthBytes = data.length < 126 ? 0 : data.length < 0x10000 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (options.mask ? 4 : 0));
  head[0] = (options.fin === false ? 0 : 0x80) | ((options.rsv ?? 0) << 4) | opcode;
  head[1] = (options.mask ? 0x80 : 0) | (lengthBytes === 0 ? data.length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(data.length, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(data.length), 2);
  return Buffer.concat([head, data]);
}

function closeFrame(code: number, reason: string): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code);
  payload.write(reason, 2);
  return serverFrame(Opcode.close, payload);
}

/** A reader that logs what it reports, one line per event. */
function recording(options: Partial<FrameReaderOptions> = {}): { reader: FrameReader; events: string[]; payloads: Uint8Array[] } {
  const events: string[] = [];
  const payloads: Uint8Array[] = [];
  const reader = new FrameReader(
    {
      message: (binary, payload) => {
        payloads.push(payload);
        events.push(binary ? `binary ${payload.byteLength}` : `text ${Buffer.from(payload).toString('utf8')}`);
      },
      ping: (payload) => events.push(`ping ${payload.toString('utf8')}`),
      pong: () => events.push('pong'),
      close: (code, reason) => events.push(`close ${code} ${reason}`),
      violation: (code, reason) => events.push(`violation ${code} ${reason}`),
    },
    { payloadBytesMax: 1024 * 1024, ...options },
  );
  return { reader, events, payloads };
}

/** Feeds `bytes` in chunks of `size` through one reused buffer, as the socket does. */
function feed(reader: FrameReader, bytes: Buffer, size: number): void {
  const scratch = Buffer.alloc(size);
  for (let at = 0; at < bytes.length; at += size) {
    const length = bytes.copy(scratch, 0, at, Math.min(at + size, bytes.length));
    reader.push(scratch, length);
    scratch.fill(0xee); // the next read overwrites it: the reader must have copied what it keeps
  }
}

describe('FrameReader', () => {
  const big = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff));
  const stream = Buffer.concat([
    serverFrame(Opcode.text, 'hello'),
    serverFrame(Opcode.binary, big.subarray(0, 126)), // the first 16-bit length
    serverFrame(Opcode.ping, 'are you there'),
    serverFrame(Opcode.binary, big), // a 64-bit length
    serverFrame(Opcode.binary, new Uint8Array(0)),
    serverFrame(Opcode.text, 'héllo ', { fin: false }),
    serverFrame(Opcode.pong, ''), // control frames may come between fragments
    serverFrame(Opcode.continuation, 'wörld', { fin: false }),
    serverFrame(Opcode.continuation, '!'),
    closeFrame(4000, 'shutting down'),
  ]);
  const expected = ['text hello', 'binary 126', 'ping are you there', 'binary 70000', 'binary 0', 'pong', 'text héllo wörld!', 'close 4000 shutting down'];

  it.each([1, 2, 3, 7, 125, 4096, stream.length])('reads every kind of frame the same whatever the reads’ size (%i bytes a read)', (size) => {
    const { reader, events, payloads } = recording();
    feed(reader, stream, size);
    expect(events).toEqual(expected);
    expect(Buffer.compare(Buffer.from(payloads[1]!), big.subarray(0, 126))).toBe(0);
    expect(Buffer.compare(Buffer.from(payloads[2]!), big)).toBe(0);
  });

  it.each([
    [1000, true],
    [4096, true],
    [100_000, false], // the first read takes all but 30,000 bytes of the large payload
  ])('reads the same when the bulk of large payloads is read straight into them (%i bytes a read)', (size, inPlace) => {
    const { reader, events, payloads } = recording();
    const windows: number[] = [];
    const scratch = Buffer.alloc(size);
    for (let at = 0; at < stream.length; ) {
      const window = reader.payloadWindow();
      const room = Math.min(size, window ? window.byteLength : size, stream.length - at);
      if (window) {
        windows.push(room);
        stream.copy(window, 0, at, at + room);
        reader.pushIntoWindow(room);
      } else {
        stream.copy(scratch, 0, at, at + room);
        reader.push(scratch, room);
        scratch.fill(0xee);
      }
      at += room;
    }
    expect(events).toEqual(expected);
    expect(Buffer.compare(Buffer.from(payloads[2]!), big)).toBe(0);
    // Only the 70,000-byte payload is large enough to be read in place, and only while 64 KiB or more of it is left.
    expect(windows.length > 0).toBe(inPlace);
    expect(windows.reduce((sum, n) => sum + n, 0)).toBeLessThan(70_000);
  });

  it('offers no window for a header, a small payload, or after a violation', () => {
    const large = serverFrame(Opcode.binary, new Uint8Array(70_000));
    const fresh = recording();
    expect(fresh.reader.payloadWindow()).toBeNull();
    fresh.reader.push(large.subarray(0, 10));
    expect(fresh.reader.payloadWindow()?.byteLength).toBe(70_000);
    fresh.reader.push(large.subarray(10, 10_000));
    expect(fresh.reader.payloadWindow()).toBeNull(); // 60,010 bytes left: read with what follows
    const small = recording();
    small.reader.push(serverFrame(Opcode.binary, new Uint8Array(50)).subarray(0, 10));
    expect(small.reader.payloadWindow()).toBeNull();
    const limited = recording({ payloadBytesMax: 100 });
    limited.reader.push(large.subarray(0, 10));
    expect(limited.events).toEqual(['violation 1009 message of more than 100 bytes']);
    expect(limited.reader.payloadWindow()).toBeNull();
  });

  it('reads an unfragmented binary message into the buffer allocateBinary gives, and text into its own', () => {
    const given: Uint8Array[] = [];
    const { reader, payloads } = recording({
      allocateBinary: (bytes) => {
        const buffer = new Uint8Array(bytes);
        given.push(buffer);
        return buffer;
      },
    });
    feed(reader, Buffer.concat([serverFrame(Opcode.binary, big), serverFrame(Opcode.text, 'x'), serverFrame(Opcode.binary, 'ab', { fin: false }), serverFrame(Opcode.continuation, 'c')]), 1000);
    expect(given.map((buffer) => buffer.byteLength)).toEqual([70_000]);
    expect(payloads[0]).toBe(given[0]);
    expect(payloads.map((payload) => payload.byteLength)).toEqual([70_000, 1, 3]);
  });

  it('reports a close frame without a status as 1005', () => {
    const { reader, events } = recording();
    reader.push(serverFrame(Opcode.close, ''));
    expect(events).toEqual([`close ${CloseCode.noStatus} `]);
  });

  it.each([
    ['a masked frame', serverFrame(Opcode.text, 'x', { mask: true }), 'violation 1002 masked frame from the server'],
    ['reserved bits', serverFrame(Opcode.text, 'x', { rsv: 4 }), 'violation 1002 reserved bits set (no extension was negotiated)'],
    ['an unknown data opcode', serverFrame(0x3, 'x'), 'violation 1002 unknown data opcode 3'],
    ['an unknown control opcode', serverFrame(0xb, 'x'), 'violation 1002 unknown control opcode 11'],
    ['a fragmented ping', serverFrame(Opcode.ping, 'x', { fin: false }), 'violation 1002 fragmented control frame'],
    ['a ping over 125 bytes', serverFrame(Opcode.ping, 'x'.repeat(126)), 'violation 1002 control frame longer than 125 bytes'],
    ['a continuation out of the blue', serverFrame(Opcode.continuation, 'x'), 'violation 1002 continuation frame without a message to continue'],
    ['a message inside a message', Buffer.concat([serverFrame(Opcode.text, 'a', { fin: false }), serverFrame(Opcode.text, 'b')]), 'violation 1002 new message before the last one ended'],
    ['text that is not UTF-8', serverFrame(Opcode.text, Buffer.from([0xc3, 0x28])), 'violation 1007 text message is not valid UTF-8'],
    ['a one-byte close payload', serverFrame(Opcode.close, Buffer.from([3])), 'violation 1002 close frame with a one-byte payload'],
    ['a close reason that is not UTF-8', serverFrame(Opcode.close, Buffer.from([0x0f, 0xa0, 0xff])), 'violation 1007 close reason is not valid UTF-8'],
  ])('rejects %s, and reads nothing after it', (_what, bad, violation) => {
    const { reader, events } = recording();
    reader.push(Buffer.concat([bad, serverFrame(Opcode.text, 'after')]));
    expect(events).toEqual([violation]);
  });

  it('rejects a message over the limit from its header, before allocating it, fragments counted together', () => {
    let allocated = 0;
    const { reader, events } = recording({ payloadBytesMax: 100, allocateBinary: (bytes) => new Uint8Array((allocated += bytes)) });
    const header = serverFrame(Opcode.binary, new Uint8Array(70_000)).subarray(0, 10);
    reader.push(header);
    expect(events).toEqual(['violation 1009 message of more than 100 bytes']);
    expect(allocated).toBe(0);

    const fragmented = recording({ payloadBytesMax: 100 });
    fragmented.reader.push(Buffer.concat([serverFrame(Opcode.binary, new Uint8Array(60), { fin: false }), serverFrame(Opcode.continuation, new Uint8Array(60))]));
    expect(fragmented.events).toEqual(['violation 1009 message of more than 100 bytes']);
  });

  it('rejects a 64-bit length no number can hold', () => {
    const { reader, events } = recording();
    const header = Buffer.from([0x82, 127, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    reader.push(header);
    expect(events).toEqual(['violation 1009 frame length beyond 2^53 bytes']);
  });
});
