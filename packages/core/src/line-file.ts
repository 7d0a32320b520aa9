import { join } from 'node:path';
import type { FileSystem, ReadHandle } from './ports';
import { errnoCode } from './errors';

const utf8 = new TextEncoder();
const newline = 0x0a;

/**
 * Read through one reused buffer rather than whole: at 100,000 files an index is ~25 MB, and
 * fresh memory costs a page fault per 4 KiB (~12 µs each on the benchmark machine, 70 ms for the file).
 */
export const readChunkBytesDefault = 1 << 20;

/**
 * Lines are decoded a piece at a time, each piece one string: a call per line into the buffer's
 * native code (find the newline, decode) cost more than parsing the line. Pieces stay under 128 KiB
 * so their strings live in V8's young generation, whose pages are reused, not in fresh ones.
 */
const decodePieceBytes = 64 * 1024;

/** Pieces a file is written in: 100,000 records as one string, then as its bytes, were ~75 MB at once. */
const writePieceChars = 1 << 20;

export interface LinesRead {
  /** Complete lines, empty ones not counted. */
  lines: number;
  /** Bytes those lines span from the start of the file: anything after them is a torn last line. */
  completeBytes: number;
  /** Whether bytes without a newline followed them. */
  torn: boolean;
}

/**
 * Calls `onLine` with each complete, non-empty line of a file, in order; null when the file does
 * not exist. What `onLine` throws ends the read and is thrown.
 */
export async function readLines(fs: FileSystem, path: string, onLine: (line: string) => void, chunkBytes = readChunkBytesDefault): Promise<LinesRead | null> {
  let handle: ReadHandle;
  try {
    handle = await fs.openRead(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
  let buffer: Buffer = Buffer.allocUnsafe(chunkBytes);
  let filled = 0; // bytes of `buffer` read from the file
  let bufferAt = 0; // file position of buffer[0]
  let lines = 0;
  try {
    for (;;) {
      if (filled === buffer.length) buffer = grown(buffer); // one line longer than the buffer
      const read = await handle.read(buffer.subarray(filled), bufferAt + filled);
      if (read === 0) break;
      filled += read;
      const consumed = completeLines(buffer, filled, Math.min(decodePieceBytes, chunkBytes), onLine);
      lines += consumed.lines;
      buffer.copy(buffer, 0, consumed.bytes, filled);
      filled -= consumed.bytes;
      bufferAt += consumed.bytes;
    }
  } finally {
    await handle.close();
  }
  return { lines, completeBytes: bufferAt, torn: filled > 0 };
}

/** Hands every complete line in buffer[0, filled) to `onLine`; returns how many, and the bytes they span. */
function completeLines(buffer: Buffer, filled: number, pieceBytes: number, onLine: (line: string) => void): { lines: number; bytes: number } {
  const complete = buffer.lastIndexOf(newline, filled - 1) + 1;
  let lines = 0;
  for (let from = 0; from < complete; ) {
    let to = from + pieceBytes >= complete ? complete : buffer.lastIndexOf(newline, from + pieceBytes - 1) + 1;
    if (to <= from) to = buffer.indexOf(newline, from) + 1; // a line longer than a piece
    const text = buffer.toString('utf8', from, to);
    for (let start = 0; start < text.length; ) {
      const end = text.indexOf('\n', start);
      if (end > start) {
        onLine(text.slice(start, end));
        lines++;
      }
      start = end + 1;
    }
    from = to;
  }
  return { lines, bytes: complete };
}

function grown(buffer: Buffer): Buffer {
  const larger = Buffer.allocUnsafe(buffer.length * 2);
  buffer.copy(larger);
  return larger;
}

/**
 * Replaces `dir/name` with the given lines, each followed by a newline: temp file, fsync, rename,
 * fsync of the directory, as `writeFileAtomic`, but written a piece at a time. A crash at any
 * moment leaves the old file or the new one, whole.
 */
export async function writeLinesAtomic(fs: FileSystem, dir: string, name: string, lines: Iterable<string>): Promise<void> {
  const temp = join(dir, `${name}.tmp`);
  const handle = await fs.openWrite(temp);
  try {
    let position = 0;
    for (const piece of pieces(lines)) {
      const data = utf8.encode(piece);
      await handle.write(data, position);
      position += data.byteLength;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, join(dir, name));
  await fs.syncDir(dir);
}

/** Lines, newline-terminated, joined into pieces of about `writePieceChars` characters. */
function* pieces(lines: Iterable<string>): Generator<string, void, undefined> {
  let held: string[] = [];
  let chars = 0;
  for (const line of lines) {
    held.push(line);
    chars += line.length + 1;
    if (chars < writePieceChars) continue;
    yield `${held.join('\n')}\n`;
    held = [];
    chars = 0;
  }
  if (held.length > 0) yield `${held.join('\n')}\n`;
}
