import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCK_FRAME_KIND, BLOCK_HEADER_BYTES, allocBlockPayload, batchRecords, blockFrameOf, decodeBlock, decodeMessage, encodeBlock, encodeFrame, encodeMessage, recordBatches } from './codec';
import type { ProtocolErrorCode } from './errors';
import { defaultLimits } from './limits';
import { PROTOCOL_VERSION } from './schemas';
import type { FileRecord, Message, MessageType } from './schemas';
import { dirFixture, recordFixture, tombstoneFixture } from './testing';

const hash = (c: string): string => c.repeat(64);
const nonce = 'AbCdEfGhIjKlMnOpQrStUv_-';

/** One valid message of every type; `satisfies` makes the compiler tell us when a type is missing. */
const messages = {
  hello: { type: 'hello', protocol: PROTOCOL_VERSION, nodeId: 'node-a', nonce, software: 'sync/0.1.0' },
  auth: { type: 'auth', proof: hash('f') },
  'index-request': { type: 'index-request', indexId: null, since: 0 },
  index: {
    type: 'index',
    indexId: 'idx-0001',
    records: [recordFixture(), dirFixture('docs'), tombstoneFixture('old.txt'), recordFixture({ path: 'empty', size: 0 })],
    done: true,
  },
  'index-update': { type: 'index-update', indexId: 'idx-0001', records: [recordFixture({ path: 'caf\u00e9.txt', sequence: 7 })] },
  request: { type: 'request', id: 0xffff_ffff, path: 'docs/readme.txt', hash: hash('b'), offset: 131_072, size: 68_928 },
  error: { type: 'error', id: 3, code: 'NOT_FOUND', message: 'gone' },
  close: { type: 'close', reason: 'shutting down' },
} satisfies { [T in MessageType]: Extract<Message, { type: T }> };

const allMessages: Message[] = Object.values(messages);

function expectFailure(result: ReturnType<typeof decodeMessage>, code: ProtocolErrorCode): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error).toMatchObject({ name: 'ProtocolError', code });
  expect(result.error.message.startsWith(`${code}: `)).toBe(true);
}

const decodeJson = (value: unknown): ReturnType<typeof decodeMessage> => decodeMessage(JSON.stringify(value));
const indexWith = (records: unknown[]): unknown => ({ type: 'index', indexId: 'idx-0001', records, done: false });

describe('encodeMessage / decodeMessage: round trip', () => {
  // Goal: every message type survives the wire unchanged.
  it.each(allMessages.map((m) => [m.type, m] as const))('%s', (_type, message) => {
    const frame = encodeMessage(message);
    expect(typeof frame).toBe('string');
    expect(decodeMessage(frame)).toEqual({ ok: true, value: message });
  });

  it('optional fields may be absent and index-request may name an index', () => {
    expect(decodeJson({ type: 'error', id: 1, code: 'BUSY' })).toEqual({ ok: true, value: { type: 'error', id: 1, code: 'BUSY' } });
    const request = { type: 'index-request', indexId: 'idx-0001', since: 42 };
    expect(decodeJson(request)).toEqual({ ok: true, value: request });
  });

  it('unknown fields are dropped, not passed on', () => {
    const result = decodeJson({ ...messages.close, extra: 'x' });
    expect(result).toEqual({ ok: true, value: messages.close });
  });
});

describe('decodeMessage: failures are values with a code', () => {
  // Goal: a hostile or broken frame yields { ok: false } with the right code and never throws.
  it.each(['', 'not json', '{', '{"type":"close",}', 'undefined', "{'type':'close'}"])('non-JSON %j → INVALID_JSON', (frame) => {
    expectFailure(decodeMessage(frame), 'INVALID_JSON');
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['an array', [messages.close]],
    ['a string', 'close'],
    ['no type', { reason: 'x' }],
    ['unknown type', { type: 'shutdown', reason: 'x' }],
    ['type of the wrong case', { type: 'Close', reason: 'x' }],
    ['missing field', { type: 'close' }],
    ['wrong field type', { type: 'request', id: '1', path: 'a', hash: hash('a'), offset: 0, size: 1 }],
    ['negative id', { ...messages.error, id: -1 }],
    ['id above uint32', { ...messages.error, id: 2 ** 32 }],
    ['fractional offset', { ...messages.request, offset: 1.5 }],
    ['zero-size request', { ...messages.request, size: 0 }],
    ['request above the block limit', { ...messages.request, size: defaultLimits.blockBytesMax + 1 }],
    ['unknown request error code', { ...messages.error, code: 'EPERM' }],
    ['short nonce', { ...messages.hello, nonce: 'abc' }],
    ['long software string', { ...messages.hello, software: 'x'.repeat(129) }],
    ['bad index id', { ...messages['index-update'], indexId: 'short' }],
    ['records not an array', { ...messages.index, records: {} }],
  ])('%s → INVALID_MESSAGE', (_what, value) => {
    expectFailure(decodeJson(value), 'INVALID_MESSAGE');
  });

  it.each([
    ['../escape', 'PATH_TRAVERSAL'],
    ['/etc/passwd', 'PATH_ABSOLUTE'],
    ['C:x', 'PATH_ABSOLUTE'],
    ['a\\b', 'PATH_BACKSLASH'],
    ['a\u0000b', 'PATH_NUL'],
    ['.sync/index', 'PATH_STATE_DIR'],
    ['a/', 'PATH_EMPTY_SEGMENT'],
    ['cafe\u0301.txt', 'PATH_NOT_NORMALIZED'],
  ] as const)('hostile path %j inside an index record → %s', (path, code) => {
    expectFailure(decodeJson(indexWith([recordFixture(), recordFixture({ path })])), code);
    expectFailure(decodeJson({ type: 'index-update', indexId: 'idx-0001', records: [dirFixture(path)] }), code);
    expectFailure(decodeJson({ ...messages.request, path }), code);
  });

  it('a text frame over frameBytesMax → FRAME_TOO_LARGE, at the limit it is decoded', () => {
    const frame = encodeMessage(messages.close);
    const bytes = new TextEncoder().encode(frame).byteLength;
    expectFailure(decodeMessage(frame, { frameBytesMax: bytes - 1 }), 'FRAME_TOO_LARGE');
    expect(decodeMessage(frame, { frameBytesMax: bytes })).toEqual({ ok: true, value: messages.close });
  });

  it('frame size counts UTF-8 bytes, not UTF-16 units', () => {
    const message: Message = { type: 'close', reason: '\u00e9'.repeat(100) };
    const frame = encodeMessage(message);
    const bytes = new TextEncoder().encode(frame).byteLength;
    expect(bytes).toBe(frame.length + 100);
    expectFailure(decodeMessage(frame, { frameBytesMax: frame.length }), 'FRAME_TOO_LARGE');
    expect(decodeMessage(frame, { frameBytesMax: bytes }).ok).toBe(true);
  });

  it('the size check comes before parsing: an oversized non-JSON frame is FRAME_TOO_LARGE', () => {
    expectFailure(decodeMessage('x'.repeat(100), { frameBytesMax: 99 }), 'FRAME_TOO_LARGE');
  });

  it(`more than ${defaultLimits.recordsPerBatchMax} records → TOO_MANY_RECORDS`, () => {
    const records = Array.from({ length: defaultLimits.recordsPerBatchMax }, (_, i) => dirFixture(`d${i}`));
    expect(decodeJson(indexWith(records)).ok).toBe(true);
    expectFailure(decodeJson(indexWith([...records, dirFixture('one-more')])), 'TOO_MANY_RECORDS');
  });

  it('keeps the zod issues as the cause and names the field', () => {
    const result = decodeJson(indexWith([recordFixture({ path: '../x' })]));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).toContain('records.0.path');
    expect(result.error.cause).toBeInstanceOf(Error);
  });
});

describe('decodeMessage: properties', () => {
  // Goal: no input makes the decoder throw; a peer can only ever earn an error value.
  const isResult = (result: ReturnType<typeof decodeMessage>): boolean =>
    result.ok ? typeof result.value.type === 'string' : typeof result.error.code === 'string';

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary-ascii' })), (frame) => {
        expect(isResult(decodeMessage(frame))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(isResult(decodeJson(value))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on valid messages with one field replaced by arbitrary JSON', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...allMessages), fc.jsonValue(), fc.nat())
      .map(([message, value, pick]) => {
        const keys = Object.keys(message);
        return { ...message, [keys[pick % keys.length] ?? 'type']: value };
      });
    const mutatedRecord = fc.tuple(fc.jsonValue(), fc.nat()).map(([value, pick]) => {
      const record: Record<string, unknown> = { ...recordFixture() };
      const keys = Object.keys(record);
      record[keys[pick % keys.length] ?? 'path'] = value;
      return indexWith([record]);
    });
    fc.assert(
      fc.property(fc.oneof(mutated, mutatedRecord), (value) => {
        expect(isResult(decodeJson(value))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('whatever decodes re-encodes to a frame that decodes to the same message', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const first = decodeJson(value);
        if (!first.ok) return;
        expect(decodeMessage(encodeMessage(first.value))).toEqual(first);
      }),
    );
  });
});

describe('encodeBlock / decodeBlock', () => {
  // Goal: block frames round-trip exactly, and a malformed one is a coded error.
  const data = new Uint8Array([1, 2, 3, 250, 0, 255]);

  it.each([0, 1, 0x1234_5678, 0xffff_ffff])('round-trips id %i', (id) => {
    const frame = encodeBlock(id, data);
    expect(frame.byteLength).toBe(BLOCK_HEADER_BYTES + data.byteLength);
    expect(frame[0]).toBe(BLOCK_FRAME_KIND);
    const result = decodeBlock(frame);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.id).toBe(id);
    expect([...result.value.data]).toEqual([...data]);
  });

  it('frames a payload from allocBlockPayload in place, without copying it', () => {
    const payload = allocBlockPayload(data.byteLength);
    payload.set(data);
    const frame = encodeBlock(0xdead_beef, payload);
    expect(frame.buffer).toBe(payload.buffer);
    const result = decodeBlock(frame);
    expect(result.ok && result.value.id).toBe(0xdead_beef);
    expect(result.ok && [...result.value.data]).toEqual([...data]);
    // Sent again under another id: the header is rewritten, the payload untouched.
    expect(decodeBlock(encodeBlock(2, payload))).toMatchObject({ ok: true, value: { id: 2 } });
    expect([...payload]).toEqual([...data]);
  });

  it('finds the frame of a payload from allocBlockPayload through any view of exactly it, and of nothing else', () => {
    const payload = allocBlockPayload(64);
    const frame = blockFrameOf(payload);
    expect(frame?.buffer).toBe(payload.buffer);
    expect(frame?.byteLength).toBe(BLOCK_HEADER_BYTES + 64);
    // What a receiver gets: decodeBlock's view of a frame read into that memory.
    const decoded = decodeBlock(encodeBlock(1, payload));
    expect(decoded.ok && blockFrameOf(decoded.value.data)).toBe(frame);
    expect(blockFrameOf(payload.subarray(1))).toBeUndefined();
    expect(blockFrameOf(payload.subarray(0, 63))).toBeUndefined();
    expect(blockFrameOf(new Uint8Array(64))).toBeUndefined();
  });

  it('writes the id big-endian after the kind byte', () => {
    expect([...encodeBlock(0x0102_0304, new Uint8Array())]).toEqual([BLOCK_FRAME_KIND, 1, 2, 3, 4]);
  });

  it('round-trips empty data', () => {
    const result = decodeBlock(encodeBlock(7, new Uint8Array()));
    expect(result.ok && result.value.id === 7 && result.value.data.byteLength === 0).toBe(true);
  });

  it('decodes a frame that is a view into a larger buffer (as ws hands them over)', () => {
    const frame = encodeBlock(0xdead_beef, data);
    const buffer = new Uint8Array(frame.byteLength + 10);
    buffer.set(frame, 3);
    const result = decodeBlock(buffer.subarray(3, 3 + frame.byteLength));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.id).toBe(0xdead_beef);
    expect([...result.value.data]).toEqual([...data]);
  });

  it.each([0, 1, 4])('a %i-byte frame is shorter than the header → INVALID_BLOCK_FRAME', (length) => {
    const result = decodeBlock(new Uint8Array(length).fill(BLOCK_FRAME_KIND));
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_BLOCK_FRAME' } });
  });

  it.each([0x00, 0x02, 0xff])('kind byte %i → INVALID_BLOCK_FRAME', (kind) => {
    const frame = encodeBlock(1, data);
    frame[0] = kind;
    expect(decodeBlock(frame)).toMatchObject({ ok: false, error: { code: 'INVALID_BLOCK_FRAME' } });
  });

  it('data over blockBytesMax → FRAME_TOO_LARGE, at the limit it is decoded', () => {
    expect(decodeBlock(encodeBlock(1, new Uint8Array(5)), { blockBytesMax: 4 })).toMatchObject({
      ok: false,
      error: { name: 'ProtocolError', code: 'FRAME_TOO_LARGE' },
    });
    expect(decodeBlock(encodeBlock(1, new Uint8Array(4)), { blockBytesMax: 4 }).ok).toBe(true);
  });

  it('round-trips any id and data (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.uint8Array({ maxLength: 64 }), (id, bytes) => {
        const result = decodeBlock(encodeBlock(id, bytes));
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(result.value.id).toBe(id);
        expect([...result.value.data]).toEqual([...bytes]);
      }),
    );
  });
});

describe('batchRecords', () => {
  // Goal: batches fit both limits, keep order, and are never empty.
  const jsonBytes = (record: FileRecord): number => new TextEncoder().encode(JSON.stringify(record)).byteLength + 1;
  const records = Array.from({ length: 10 }, (_, i) => dirFixture(`dir-${i}`));
  const oneRecordBytes = jsonBytes(dirFixture('dir-0'));

  it('returns no batch for no records', () => {
    expect(batchRecords([])).toEqual([]);
  });

  it('respects recordsPerBatchMax', () => {
    const batches = batchRecords(records, { recordsPerBatchMax: 3, batchBytesMax: 1 << 20 });
    expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(batches.flat()).toEqual(records);
  });

  it('respects batchBytesMax', () => {
    // Room for two records, not three.
    const batches = batchRecords(records, { recordsPerBatchMax: 100, batchBytesMax: oneRecordBytes * 3 - 1 });
    expect(batches.map((b) => b.length)).toEqual([2, 2, 2, 2, 2]);
    expect(batches.flat()).toEqual(records);
  });

  it('counts UTF-8 bytes: a non-ASCII path takes more budget than its length', () => {
    const wide = Array.from({ length: 4 }, (_, i) => dirFixture(`${'\u00e9'.repeat(100)}-${i}`));
    const asciiLength = JSON.stringify(wide[0]).length + 1;
    // By UTF-16 length two would fit; by bytes (100 more each) only one does.
    const batches = batchRecords(wide, { recordsPerBatchMax: 100, batchBytesMax: asciiLength * 2 + 50 });
    expect(batches.map((b) => b.length)).toEqual([1, 1, 1, 1]);
  });

  it('puts a record larger than batchBytesMax in a batch of its own', () => {
    const big = recordFixture({ path: 'big', size: 64 * 1024 * 1024 });
    const input = [dirFixture('a'), big, dirFixture('b'), dirFixture('c')];
    const batches = batchRecords(input, { recordsPerBatchMax: 100, batchBytesMax: oneRecordBytes * 2 });
    expect(batches).toEqual([[input[0]], [big], [input[2], input[3]]]);
  });

  it('builds batches one at a time, reading only the records the next batch needs', () => {
    let pulled = 0;
    const source = function* (): Generator<FileRecord> {
      for (const record of records) {
        pulled++;
        yield record;
      }
    };
    const batches = recordBatches(source(), { recordsPerBatchMax: 3, batchBytesMax: 1 << 20 });
    expect(batches.next().value).toEqual(records.slice(0, 3));
    // The fourth record told the first batch it was full; nothing beyond it was read.
    expect(pulled).toBe(4);
    expect([...batches]).toEqual(batchRecords(records.slice(3), { recordsPerBatchMax: 3, batchBytesMax: 1 << 20 }));
  });

  it('uses the default limits when none are given', () => {
    const many = Array.from({ length: defaultLimits.recordsPerBatchMax + 1 }, (_, i) => dirFixture(`d${i}`));
    expect(batchRecords(many).map((b) => b.length)).toEqual([defaultLimits.recordsPerBatchMax, 1]);
  });

  it('every batch is non-empty, within both limits (unless alone), and order is kept (property)', () => {
    const recordArb = fc
      .tuple(fc.string({ minLength: 1, maxLength: 30 }), fc.boolean())
      .map(([name, isDir]) => (isDir ? dirFixture(`p${name}`) : recordFixture({ path: `p${name}`, size: name.length * 100_000 })));
    fc.assert(
      fc.property(
        fc.array(recordArb, { maxLength: 40 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 5_000 }),
        (input, recordsPerBatchMax, batchBytesMax) => {
          const batches = batchRecords(input, { recordsPerBatchMax, batchBytesMax });
          expect(batches.flat()).toEqual(input);
          for (const batch of batches) {
            expect(batch.length).toBeGreaterThan(0);
            expect(batch.length).toBeLessThanOrEqual(recordsPerBatchMax);
            // What goes on the wire: records with packed block lists, one comma between each.
            const wire = (records: FileRecord[]): number => new TextEncoder().encode(encodeMessage({ type: 'index-update', indexId: 'idx-00000001', records })).byteLength;
            if (batch.length > 1) expect(wire(batch) - wire([])).toBeLessThanOrEqual(batchBytesMax);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('encodeMessage of a batch from recordBatches', () => {
  // Goal: reusing the JSON made while batching gives the very bytes of encoding the records anew.
  const records = [
    recordFixture({ path: 'notes/café "records":[] ünï.txt', size: 300_000 }),
    dirFixture('notes'),
    tombstoneFixture('gone.txt'),
  ];

  it('is byte for byte what the records encode to, for index and index-update messages', () => {
    const batches = [1, 2, 3].flatMap((recordsPerBatchMax) => [...recordBatches(records, { recordsPerBatchMax, batchBytesMax: 1 << 20 })]);
    expect(batches.map((batch) => batch.length)).toEqual([1, 1, 1, 2, 1, 3]);
    for (const batch of batches) {
      const fresh = [...batch];
      expect(encodeMessage({ type: 'index', indexId: 'idx-00000001', records: batch, done: true })).toBe(
        encodeMessage({ type: 'index', indexId: 'idx-00000001', records: fresh, done: true }),
      );
      const update = encodeMessage({ type: 'index-update', indexId: 'idx-00000001', records: batch });
      expect(update).toBe(encodeMessage({ type: 'index-update', indexId: 'idx-00000001', records: fresh }));
      const decoded = decodeMessage(update);
      expect(decoded.ok && decoded.value.type === 'index-update' && decoded.value.records.map((r) => r.path)).toEqual(batch.map((r) => r.path));
    }
  });

  it('gives the same frame as UTF-8 bytes, built from the bytes kept while batching', () => {
    const utf8 = new TextEncoder();
    const batches = [...recordBatches(records, { recordsPerBatchMax: 2, batchBytesMax: 1 << 20 }), ...recordBatches([])];
    expect(batches.map((batch) => batch.length)).toEqual([2, 1]);
    for (const batch of batches) {
      for (const message of [
        { type: 'index', indexId: 'idx-00000001', records: batch, done: false } as const,
        { type: 'index-update', indexId: 'idx-00000001', records: batch } as const,
      ]) {
        const frame = encodeFrame(message);
        expect(frame).toBeInstanceOf(Uint8Array);
        expect(Buffer.from(frame as Uint8Array).equals(Buffer.from(utf8.encode(encodeMessage({ ...message, records: [...batch] }))))).toBe(true);
      }
    }
    // Anything else is the string encodeMessage makes.
    expect(encodeFrame({ type: 'index-update', indexId: 'idx-00000001', records: [...records] })).toBe(encodeMessage({ type: 'index-update', indexId: 'idx-00000001', records: [...records] }));
    expect(encodeFrame(messages.close)).toBe(encodeMessage(messages.close));
  });

  it('keeps the bytes of long records, and of more records than its first buffer holds', () => {
    const long = recordFixture({ path: Array.from({ length: 15 }, (_, i) => `${'ü'.repeat(120)}${i}`).join('/'), size: 300_000 });
    const many = Array.from({ length: 400 }, (_, i) => recordFixture({ path: `dir/é-${i}.txt`, size: 300_000 }));
    for (const input of [[long, long, long], many]) {
      const [batch] = [...recordBatches(input, { recordsPerBatchMax: 1000, batchBytesMax: 4 << 20 })];
      expect(batch).toHaveLength(input.length);
      const decoded = decodeMessage(new TextDecoder().decode(encodeFrame({ type: 'index', indexId: 'idx-00000001', records: batch!, done: true }) as Uint8Array));
      expect(decoded.ok && decoded.value.type === 'index' && decoded.value.records.map((r) => r.path)).toEqual(input.map((r) => r.path));
    }
  });

  it('encodes a batch whose length changed since it was made anew', () => {
    const [batch] = [...recordBatches(records.slice(0, 1))];
    batch!.push(records[1]!);
    const decoded = decodeMessage(encodeMessage({ type: 'index-update', indexId: 'idx-00000001', records: batch! }));
    expect(decoded.ok && decoded.value.type === 'index-update' && decoded.value.records.map((r) => r.path)).toEqual(['notes/café "records":[] ünï.txt', 'notes']);
  });
});
