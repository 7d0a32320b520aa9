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
    const encoded = encodedRecords.get(message.records);
    if (encoded?.length === message.records.length) return withRecords(JSON.stringify({ ...message, records: [] }), encoded);
    return JSON.stringify({ ...message, records: message.records.map(toWireRecord) });
  }
  return JSON.stringify(message);
}

/**
 * Each batch `recordBatches` made, with its records as JSON: it encodes every record to size the
 * batch, and the frame reuses those strings instead of encoding each record a second time
 * (~1.3 µs a record, 100,000 at each full index exchange). A batch is not to be changed once
 * made; one whose length changed is encoded anew.
 */
const encodedRecords = new WeakMap<readonly FileRecord[], string[]>();

/**
 * The message's JSON with its empty records array filled. A JSON string escapes every `"`, so the
 * first `"records":[]` is the key's own. Made by one `join`, which yields a flat string: pasting
 * the joined records between the two halves made a rope, and the socket flattened it into a
 * second copy of the frame (~1 MB each, straight into the old generation) before sending it.
 */
function withRecords(shell: string, records: readonly string[]): string {
  const empty = '"records":[]';
  const at = shell.indexOf(empty);
  const head = `${shell.slice(0, at)}"records":[`;
  const tail = `]${shell.slice(at + empty.length)}`;
  if (records.length === 0) return head + tail;
  const parts = records.slice();
  parts[0] = head + parts[0]!;
  parts[parts.length - 1] += tail;
  return parts.join(',');
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
  let encoded: string[] = [];
  let bytes = 0;
  const finished = (): FileRecord[] => {
    encodedRecords.set(batch, encoded);
    return batch;
  };
  for (const record of records) {
    const json = JSON.stringify(toWireRecord(record));
    // UTF-8 bytes, not UTF-16 units: the budget is in bytes and non-ASCII paths take up to 3 per unit. +1 for the comma.
    const recordBytes = Buffer.byteLength(json, 'utf8') + 1;
    if (batch.length > 0 && (batch.length >= limits.recordsPerBatchMax || bytes + recordBytes > limits.batchBytesMax)) {
      yield finished();
      batch = [];
      encoded = [];
      bytes = 0;
    }
    batch.push(record);
    encoded.push(json);
    bytes += recordBytes;
  }
  if (batch.length > 0) yield finished();
}
