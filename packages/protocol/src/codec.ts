import type { z } from 'zod';
import { ProtocolError, fail, ok } from './errors';
import type { ProtocolErrorCode, Result } from './errors';
import { defaultLimits } from './limits';
import type { ProtocolLimits } from './limits';
import { MessageSchema } from './schemas';
import { packBlocks } from './packed-blocks';
import type { BlockFrame, FileRecord, Message } from './schemas';

const utf8 = new TextEncoder();
export const BLOCK_FRAME_KIND = 0x01;
export const BLOCK_HEADER_BYTES = 5;
/**
 * A block frame with this id answers no request: the sender pushes a small file's bytes along with
 * its announcement, saving the round trip of a request. The receiver keys it by its own SHA-256 of
 * the bytes and may drop it; request ids start at 1.
 */
export const PUSHED_BLOCK_ID = 0;

export function encodeMessage(message: Message): string {
  if (message.type === 'index' || message.type === 'index-update') {
    const encoded = encodedRecordsOf(message.records);
    if (encoded) {
      const [head, tail] = around(message);
      return `${head}${encoded.toString('utf8')}${tail}`;
    }
    return JSON.stringify({ ...message, records: message.records.map(toWireRecord) });
  }
  return JSON.stringify(message);
}

/**
 * A text frame's payload: `encodeMessage`'s JSON, as UTF-8 bytes for a batch `recordBatches` made.
 * Those bytes are the records' JSON it kept, with the message around them, and no string of the
 * whole frame is made: each was one string of ~300 KB per 1,000 records, allocated straight into
 * V8's large-object space, which only a mark-compact frees (a whole index of 100,000 records left
 * ~30 MB of them at a sender's peak).
 */
export function encodeFrame(message: Message): string | Uint8Array {
  if (message.type !== 'index' && message.type !== 'index-update') return encodeMessage(message);
  const encoded = encodedRecordsOf(message.records);
  if (!encoded) return encodeMessage(message);
  const [head, tail] = around(message);
  const headBytes = Buffer.byteLength(head, 'utf8');
  const frame = Buffer.allocUnsafe(headBytes + encoded.byteLength + Buffer.byteLength(tail, 'utf8'));
  frame.write(head, 0, 'utf8');
  encoded.copy(frame, headBytes);
  frame.write(tail, headBytes + encoded.byteLength, 'utf8');
  return frame;
}

/**
 * Each batch `recordBatches` made, with its records' JSON as UTF-8, comma-separated: it encodes
 * every record to size the batch, and the frame reuses those bytes instead of encoding each record
 * a second time (~1.3 µs a record, 100,000 at each full index exchange). A batch is not to be
 * changed once made; one whose length changed is encoded anew.
 */
const encodedRecords = new WeakMap<readonly FileRecord[], { count: number; json: Buffer }>();

function encodedRecordsOf(records: readonly FileRecord[]): Buffer | undefined {
  const encoded = encodedRecords.get(records);
  return encoded?.count === records.length ? encoded.json : undefined;
}

/**
 * The message's JSON up to its records and after them. A JSON string escapes every `"`, so the
 * first `"records":[]` of the message without records is the key's own.
 */
function around(message: Message & { records: readonly FileRecord[] }): [head: string, tail: string] {
  const shell = JSON.stringify({ ...message, records: [] });
  const empty = '"records":[]';
  const at = shell.indexOf(empty);
  return [`${shell.slice(0, at)}"records":[`, `]${shell.slice(at + empty.length)}`];
}

/** A record as it is written on the wire: its block list packed (see `packBlocks`). */
function toWireRecord(record: FileRecord): Omit<FileRecord, 'blocks'> & { blocks: string | [] } {
  return { ...record, blocks: record.blocks.length > 0 ? packBlocks(record.blocks) : [] };
}

/** Decodes and validates one text frame. Never throws: a bad frame is a `ProtocolError` value. */
export function decodeMessage(frame: string, limits: Pick<ProtocolLimits, 'frameBytesMax'> = defaultLimits): Result<Message> {
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so only long strings need the exact count.
  if (frame.length * 3 > limits.frameBytesMax && utf8.encode(frame).byteLength > limits.frameBytesMax) {
    return fail(new ProtocolError('FRAME_TOO_LARGE', `text frame over ${limits.frameBytesMax} bytes`));
  }
  let json: unknown;
  try {
    json = JSON.parse(frame);
  } catch (cause) {
    return fail(new ProtocolError('INVALID_JSON', 'text frame is not JSON', { cause }));
  }
  const parsed = MessageSchema.safeParse(json);
  if (!parsed.success) return fail(issueToError(parsed.error));
  return ok(parsed.data);
}

function issueToError(error: z.ZodError): ProtocolError {
  const issue = error.issues[0];
  const params = issue && 'params' in issue ? (issue.params as { protocolCode?: ProtocolErrorCode } | undefined) : undefined;
  const code = params?.protocolCode ?? 'INVALID_MESSAGE';
  const where = issue ? issue.path.join('.') : '';
  return new ProtocolError(code, `${where ? `${where}: ` : ''}${issue?.message ?? 'invalid message'}`, { cause: error });
}

/**
 * The frames `allocBlockPayload` made, by their memory: each has its own, so any view of exactly
 * its payload (one `decodeBlock` made of a received frame, say) finds its frame.
 */
const blockFrames = new WeakMap<ArrayBufferLike, Uint8Array>();

/**
 * A buffer for one block's bytes with room for the frame header in front of it: a sender that
 * reads the block from disk straight into it has `encodeBlock` write the header in place instead
 * of copying the block into a new frame (a copy of everything sent, and a fresh allocation each).
 * Not zero-filled (zeroing and faulting in fresh pages cost more than the read): the caller must
 * fill every byte, or not send it.
 */
export function allocBlockPayload(size: number): Uint8Array {
  const frame = Buffer.allocUnsafeSlow(BLOCK_HEADER_BYTES + size);
  blockFrames.set(frame.buffer, frame);
  return frame.subarray(BLOCK_HEADER_BYTES);
}

/** The frame a payload made by `allocBlockPayload` sits in (header room first); undefined for any other buffer. */
export function blockFrameOf(payload: Uint8Array): Uint8Array | undefined {
  const frame = blockFrames.get(payload.buffer);
  const exact = frame && payload.byteOffset === frame.byteOffset + BLOCK_HEADER_BYTES && payload.byteLength === frame.byteLength - BLOCK_HEADER_BYTES;
  return exact ? frame : undefined;
}

export function encodeBlock(id: number, data: Uint8Array): Uint8Array {
  const framed = blockFrameOf(data);
  const frame = framed ?? new Uint8Array(BLOCK_HEADER_BYTES + data.byteLength);
  frame[0] = BLOCK_FRAME_KIND;
  new DataView(frame.buffer, frame.byteOffset).setUint32(1, id >>> 0);
  if (!framed) frame.set(data, BLOCK_HEADER_BYTES);
  return frame;
}

/** Decodes a binary frame; the data is a view into `frame`, not a copy. */
export function decodeBlock(frame: Uint8Array, limits: Pick<ProtocolLimits, 'blockBytesMax'> = defaultLimits): Result<BlockFrame> {
  if (frame.byteLength < BLOCK_HEADER_BYTES) {
    return fail(new ProtocolError('INVALID_BLOCK_FRAME', `binary frame of ${frame.byteLength} bytes is shorter than its header`));
  }
  if (frame[0] !== BLOCK_FRAME_KIND) {
    return fail(new ProtocolError('INVALID_BLOCK_FRAME', `unknown binary frame kind ${frame[0]}`));
  }
  if (frame.byteLength - BLOCK_HEADER_BYTES > limits.blockBytesMax) {
    return fail(new ProtocolError('FRAME_TOO_LARGE', `block over ${limits.blockBytesMax} bytes`));
  }
  const id = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(1);
  return ok({ id, data: frame.subarray(BLOCK_HEADER_BYTES) });
}

/** Splits records into batches that respect both the record count and the byte budget of one frame. */
export function batchRecords(
  records: Iterable<FileRecord>,
  limits: Pick<ProtocolLimits, 'recordsPerBatchMax' | 'batchBytesMax'> = defaultLimits,
): FileRecord[][] {
  return [...recordBatches(records, limits)];
}

/**
 * `batchRecords` one batch at a time: a node sending its whole index (100,000 records) holds the
 * batch in hand, not every batch of the index and a sized copy of each record at once.
 */
export function* recordBatches(
  records: Iterable<FileRecord>,
  limits: Pick<ProtocolLimits, 'recordsPerBatchMax' | 'batchBytesMax'> = defaultLimits,
): Generator<FileRecord[], void, undefined> {
  let batch: FileRecord[] = [];
  let bytes = 0;
  // Each record's JSON goes into bytes at once, so its string dies young; the batch keeps a copy.
  let json: Buffer = Buffer.allocUnsafe(64 * 1024);
  let used = 0;
  const finished = (): FileRecord[] => {
    encodedRecords.set(batch, { count: batch.length, json: Buffer.from(json.subarray(0, used)) });
    return batch;
  };
  for (const record of records) {
    const text = JSON.stringify(toWireRecord(record));
    // UTF-8 bytes, not UTF-16 units: the budget is in bytes and non-ASCII paths take up to 3 per unit. +1 for the comma.
    const recordBytes = Buffer.byteLength(text, 'utf8') + 1;
    if (batch.length > 0 && (batch.length >= limits.recordsPerBatchMax || bytes + recordBytes > limits.batchBytesMax)) {
      yield finished();
      batch = [];
      bytes = 0;
      used = 0;
    }
    if (used + recordBytes > json.length) json = grown(json, used + recordBytes);
    if (batch.length > 0) json[used++] = comma;
    used += json.write(text, used, 'utf8');
    batch.push(record);
    bytes += recordBytes;
  }
  if (batch.length > 0) yield finished();
}

const comma = 0x2c;

function grown(buffer: Buffer, bytesMin: number): Buffer {
  let size = buffer.length * 2;
  while (size < bytesMin) size *= 2;
  const larger = Buffer.allocUnsafe(size);
  buffer.copy(larger);
  return larger;
}
