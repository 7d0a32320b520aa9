import { blockSizeFor } from './limits';
import type { BlockInfo } from './schemas';

const hashBytes = 32;

/**
 * The wire form of a file's block list: its SHA-256 hashes, concatenated, in base64. Offsets and
 * sizes follow from the file size (blocks tile it at `blockSizeFor(size)`), so they are not sent:
 * a 2,048-block list takes 87 KB instead of ~195 KB of JSON objects, in every index message.
 */
export function packBlocks(blocks: readonly BlockInfo[]): string {
  const bytes = Buffer.allocUnsafe(blocks.length * hashBytes);
  blocks.forEach((block, index) => bytes.write(block.hash, index * hashBytes, hashBytes, 'hex'));
  return bytes.toString('base64');
}

/** The block list of a `size`-byte file from its packed hashes; a string saying what is wrong otherwise. */
export function unpackBlocks(packed: string, size: number): BlockInfo[] | string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(packed) || packed.length % 4 !== 0) return 'packed blocks are not base64';
  const bytes = Buffer.from(packed, 'base64');
  const blockSize = blockSizeFor(size);
  const count = Math.ceil(size / blockSize);
  if (bytes.byteLength !== count * hashBytes) return `a ${size}-byte file has ${count} blocks, not ${bytes.byteLength / hashBytes}`;
  // Made at its exact length: a list grown by `push` from empty gets room for 16 entries, and a
  // receiver keeps one such list per file of a peer's index (128 B wasted on each one-block list).
  return Array.from({ length: count }, (_, index) => {
    const offset = index * blockSize;
    return { offset, size: Math.min(blockSize, size - offset), hash: bytes.toString('hex', index * hashBytes, (index + 1) * hashBytes) };
  });
}

/** Largest packed list a record may carry (as many hashes as a file may have blocks). */
export function packedBlocksCharsMax(blocksPerFileMax: number): number {
  return Math.ceil((blocksPerFileMax * hashBytes) / 3) * 4;
}
