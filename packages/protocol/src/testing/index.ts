import { blockSizeFor } from '../limits';
import type { BlockInfo, FileRecord } from '../schemas';

/** A fake SHA-256 that still passes `Sha256HexSchema`: the content is never hashed in protocol tests. */
const fakeFileHash = 'a'.repeat(64);
const fakeBlockHash = (index: number): string => index.toString(16).padStart(64, 'b');

/** Blocks that tile `size` bytes at the protocol's block size, as `FileRecordSchema` demands. */
function tilingBlocks(size: number): BlockInfo[] {
  const blockSize = blockSizeFor(size);
  const blocks: BlockInfo[] = [];
  for (let offset = 0, index = 0; offset < size; offset += blockSize, index += 1) {
    blocks.push({ offset, size: Math.min(blockSize, size - offset), hash: fakeBlockHash(index) });
  }
  return blocks;
}

/**
 * A valid live file record (two blocks by default). Overriding `size` without `blocks` recomputes the
 * tiling, so `recordFixture({ size: 0 })` is a valid empty file. Paths are not checked here, so a test
 * can build a record with a hostile path and watch the receiver reject it.
 */
export function recordFixture(overrides: Partial<FileRecord> = {}): FileRecord {
  const size = overrides.size ?? 200_000;
  return {
    path: 'docs/readme.txt',
    type: 'file',
    size,
    mtimeMs: 1_700_000_000_000,
    mode: 0o644,
    hash: fakeFileHash,
    blocks: tilingBlocks(size),
    deleted: false,
    version: { 'node-a': 1 },
    modifiedBy: 'node-a',
    sequence: 1,
    ...overrides,
  };
}

/** A deleted path: no content, no blocks, a version newer than `recordFixture`'s default. */
export function tombstoneFixture(path: string, overrides: Partial<FileRecord> = {}): FileRecord {
  return recordFixture({ size: 0, hash: '', blocks: [], deleted: true, version: { 'node-a': 2 }, sequence: 2, ...overrides, path });
}

export function dirFixture(path: string, overrides: Partial<FileRecord> = {}): FileRecord {
  return recordFixture({ type: 'dir', size: 0, mode: 0o755, hash: '', blocks: [], ...overrides, path });
}

/**
 * Paths every receiver must reject (`validatePath` fails on each, with the default state directory).
 * NFD paths are not here: `validatePath` accepts and normalises them; only wire schemas refuse them.
 */
export const hostilePaths: readonly string[] = Object.freeze([
  '',
  '/etc/passwd',
  '/',
  'C:x',
  'C:\\Windows\\system32',
  'c:/x',
  '..',
  '../x',
  '../../etc/passwd',
  'a/../../x',
  'a/..',
  '.',
  './a',
  'a/./b',
  '..\\x',
  'a\\b',
  'a\u0000b',
  'a\u0000/../../x',
  'a\nb',
  'a\rb',
  'a\tb',
  'a\u001b[31mred',
  'a\u007fb',
  'a\u009bb',
  'a\ud800b',
  'a\udc00',
  'a//b',
  'a/',
  '.sync',
  '.sync/',
  '.sync/index',
  '.sync/tmp/x',
  '.SYNC/index',
  'a'.repeat(256),
  `x/${'\u00e9'.repeat(128)}`,
  `${'a'.repeat(255)}/`.repeat(16) + 'b'.repeat(2),
]);
