import { createHash } from 'node:crypto';
import { blockSizeFor } from '@sync/protocol';
import type { BlockInfo } from '@sync/protocol';
import type { FileSystem } from './ports';

export interface FileDigest {
  size: number;
  hash: string;
  blocks: BlockInfo[];
}

export const emptyFileHash = createHash('sha256').digest('hex');

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A file's content hash, from its block hashes: the block hash itself for a file of one block (so
 * small files are hashed once), else SHA-256 over the concatenated 32-byte block hashes. Block
 * size follows from the file size, so the list pins the content as firmly as a hash of the bytes
 * would, and neither side needs a second pass over a large file to compute or verify it.
 */
export function fileHashOf(blocks: readonly BlockInfo[]): string {
  if (blocks.length === 0) return emptyFileHash;
  if (blocks.length === 1) return blocks[0]!.hash;
  const whole = createHash('sha256');
  for (const block of blocks) whole.update(Buffer.from(block.hash, 'hex'));
  return whole.digest('hex');
}

/** From this size, a file is hashed through the filesystem's `hashBlocks` when it has one. */
export const parallelHashMinBytes = 64 * 1024 * 1024;

/**
 * Hashes a file block by block in one pass over the disk (see `fileHashOf`). The next block is read
 * while the current one is hashed, so disk and CPU work overlap. A file of one block is read
 * with one read and hashed once: its block hash is its whole hash. Read buffers come from `buffers`.
 * (Block hashes on the libuv pool through WebCrypto were tried: on two busy cores they delay
 * the pool's file reads and writes and made a 1 GiB sync 35% slower.)
 */
export async function hashFile(
  fs: FileSystem,
  path: string,
  sizeHint: number,
  onProgress?: (bytesDone: number) => void,
  buffers: HashBuffers = freshBuffers,
): Promise<FileDigest> {
  const blockSize = blockSizeFor(sizeHint);
  if (fs.hashBlocks && sizeHint >= parallelHashMinBytes) {
    // Exactly `sizeHint` bytes are read: a file that grew or shrank meanwhile has a new mtime or a
    // short block (so a size that differs), and the caller looks again.
    let bytesDone = 0;
    const blocks = await fs.hashBlocks(path, sizeHint, blockSize, onProgress && ((bytes) => onProgress((bytesDone += bytes))));
    return { size: blocks.reduce((sum, block) => sum + block.size, 0), hash: fileHashOf(blocks), blocks };
  }
  const handle = await fs.openRead(path);
  try {
    if (sizeHint < blockSize) {
      const digest = await hashOneBlock(handle, sizeHint, buffers);
      if (digest) return digest;
      // It grew while we looked: hash it the general way; the caller sees the size changed.
    }
    return await hashBlockByBlock(handle, blockSize, buffers, onProgress);
  } finally {
    await handle.close();
  }
}

type ReadHandle = Parameters<typeof readFull>[0];

/** A file expected to fit one block, read in one piece; null if it holds more than `sizeHint` bytes. */
async function hashOneBlock(handle: ReadHandle, sizeHint: number, buffers: HashBuffers): Promise<FileDigest | null> {
  // A power of two, which a pool keeps for the next file of about this size. Not zeroed: only
  // the bytes a read filled are ever hashed.
  let bufferSize = 1;
  while (bufferSize < sizeHint + 1) bufferSize *= 2;
  const buffer = buffers.take(bufferSize);
  try {
    // One byte more than expected tells a file that grew apart from one that did not.
    const length = await readFull(handle, buffer.subarray(0, sizeHint + 1), 0);
    if (length === 0) return { size: 0, hash: emptyFileHash, blocks: [] };
    if (length > sizeHint) return null;
    const hash = sha256(buffer.subarray(0, length));
    return { size: length, hash, blocks: [{ offset: 0, size: length, hash }] };
  } finally {
    buffers.give(buffer);
  }
}

/** Block by block, the next block read while the current one is hashed. */
async function hashBlockByBlock(handle: ReadHandle, blockSize: number, buffers: HashBuffers, onProgress?: (bytesDone: number) => void): Promise<FileDigest> {
  let reading = buffers.take(blockSize);
  let hashing = buffers.take(blockSize);
  let pending = readFull(handle, reading, 0);
  try {
    const blocks: BlockInfo[] = [];
    let offset = 0;
    for (;;) {
      const length = await pending;
      if (length === 0) break;
      [reading, hashing] = [hashing, reading];
      pending = length < blockSize ? Promise.resolve(0) : readFull(handle, reading, offset + length);
      blocks.push({ offset, size: length, hash: sha256(hashing.subarray(0, length)) });
      offset += length;
      onProgress?.(offset);
    }
    // A file that grew past the size hint would have a different block size: the caller re-checks size.
    return { size: offset, hash: fileHashOf(blocks), blocks };
  } finally {
    // Not while a read may still be filling one of them (a hash or a progress report threw).
    await pending.catch(() => 0);
    buffers.give(reading);
    buffers.give(hashing);
  }
}

/**
 * Where `hashFile` takes its read buffers and gives them back (a `BlockPool`). Fresh buffers per
 * file, in a by-hand scan of 100,000 small files, once left ~70 MB of dead buffers outside the
 * heap until a full collection.
 */
export interface HashBuffers {
  take(size: number): Uint8Array;
  give(buffer: Uint8Array): void;
}

const freshBuffers: HashBuffers = {
  take: (size) => Buffer.allocUnsafe(size),
  give: () => {},
};

/** Reads until `buffer` is full or the file ends; returns the bytes read. */
export async function readFull(handle: { read(buffer: Uint8Array, position: number): Promise<number> }, buffer: Uint8Array, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.byteLength) {
    const read = await handle.read(buffer.subarray(filled), position + filled);
    if (read === 0) break;
    filled += read;
  }
  return filled;
}
