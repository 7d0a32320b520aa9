import { blockSizeFor, packBlocks, unpackBlocks } from '@sync/protocol';
import type { BlockInfo } from '@sync/protocol';
import type { DiskFingerprint, LocalRecord } from './record';
import { sameBlocks, StoredRecord } from './record';
import { fileHashOf } from './hashing';
import { sharedVersion } from './shared-versions';
import { SyncError } from './errors';

/**
 * One record as a journal line: JSON, leaving out what follows from the other fields, so a
 * restart parses less and the records it builds share strings. A small file's one block is its
 * whole content with the file's hash, and is left out; any other block list is packed as on the
 * wire (`packBlocks`). The disk fingerprint keeps only what differs from the record, usually just
 * the inode. `deleted` is written only when true. Lines in the full form (older journals) read the same.
 */
export function encodeJournalLine(record: StoredRecord): string {
  const blocks = record.blockList();
  const disk = record.diskFingerprint();
  // One literal, what is left out set to undefined (JSON leaves those out): deleting fields from a
  // copy turned each line's object into a dictionary, slower to build and to stringify.
  const line: JournalLine = {
    path: record.path,
    type: record.type,
    size: record.size,
    mtimeMs: record.mtimeMs,
    mode: record.mode,
    hash: record.hash,
    blocks: sameBlocks(blocks, impliedBlocks(record)) ? undefined : tilesAsPacked(blocks, record.size) ? packBlocks(blocks) : blocks,
    target: record.target,
    deleted: record.deleted ? true : undefined,
    version: record.version,
    modifiedBy: record.modifiedBy,
    sequence: record.sequence,
    disk: disk ? diskLine(record, disk) : undefined,
  };
  return JSON.stringify(line);
}

function diskLine(record: StoredRecord, disk: DiskFingerprint): NonNullable<JournalLine['disk']> {
  return {
    ino: disk.ino,
    size: disk.size !== record.size ? disk.size : undefined,
    mtimeMs: disk.mtimeMs !== record.mtimeMs ? disk.mtimeMs : undefined,
  };
}

/** The record of a journal line; null for valid JSON that is not one (`JSON.parse` throws on the rest). */
export function decodeJournalLine(line: string): StoredRecord | null {
  const raw = JSON.parse(line) as JournalLine | null;
  if (typeof raw !== 'object' || raw === null || typeof raw.path !== 'string' || typeof raw.size !== 'number') return null;
  const deleted = raw.deleted ?? false;
  let blocks: BlockInfo[];
  let hash = raw.hash;
  if (raw.blocks === undefined) {
    blocks = impliedBlocks({ deleted, type: raw.type, size: raw.size, hash: raw.hash });
  } else if (typeof raw.blocks === 'string') {
    const unpacked = unpackBlocks(raw.blocks, raw.size);
    if (typeof unpacked === 'string') return null;
    blocks = unpacked;
  } else {
    blocks = raw.blocks;
    // Full-form lines may come from indexes written before file hashes were made from block
    // hashes: those carry a hash of the bytes for files of several blocks. The blocks still hold,
    // so the hash follows from them. (Packed lines were written with it, and skip this pass.)
    if (!deleted && raw.type === 'file' && blocks.length > 1) hash = fileHashOf(blocks);
  }
  const disk = raw.disk ? { size: raw.disk.size ?? raw.size, mtimeMs: raw.disk.mtimeMs ?? raw.mtimeMs, ino: raw.disk.ino } : undefined;
  return new StoredRecord(
    {
      path: raw.path,
      type: raw.type,
      size: raw.size,
      mtimeMs: raw.mtimeMs,
      mode: raw.mode,
      hash,
      blocks,
      target: raw.target,
      deleted,
      version: sharedVersion(raw.version),
      modifiedBy: raw.modifiedBy,
    },
    raw.sequence,
    disk,
  );
}

/** Each record's journal line, in order (a whole file of them is written a piece at a time). */
export function* journalLinesOf(records: Iterable<StoredRecord>): Generator<string, void, undefined> {
  for (const record of records) yield encodeJournalLine(record);
}

/** The record of a line of the state file at `path`; `SyncError('INDEX_CORRUPT')` for anything else. */
export function recordOfLine(line: string, path: string): StoredRecord {
  let record: StoredRecord | null;
  try {
    record = decodeJournalLine(line);
  } catch (cause) {
    throw new SyncError('INDEX_CORRUPT', `unreadable line in ${path}`, { cause });
  }
  if (!record) throw new SyncError('INDEX_CORRUPT', `a line of ${path} is not a record`);
  return record;
}

/** What a line holds: a record, with the fields `encodeJournalLine` may leave out optional. */
type JournalLine = Omit<LocalRecord, 'blocks' | 'deleted' | 'disk'> & {
  blocks?: BlockInfo[] | string;
  deleted?: boolean;
  disk?: { size?: number; mtimeMs?: number; ino: number };
};

/** The block list a line without one stands for: a live file's single block, the file itself. */
function impliedBlocks(record: Pick<LocalRecord, 'deleted' | 'type' | 'size' | 'hash'>): BlockInfo[] {
  if (record.deleted || record.type !== 'file' || record.size === 0 || record.size > blockSizeFor(record.size)) return [];
  return [{ offset: 0, size: record.size, hash: record.hash }];
}

/** Packing keeps only hashes: offsets and sizes must be the ones `unpackBlocks` derives from the size. */
function tilesAsPacked(blocks: readonly BlockInfo[], size: number): boolean {
  if (blocks.length === 0) return false;
  const blockSize = blockSizeFor(size);
  if (blocks.length !== Math.ceil(size / blockSize)) return false;
  return blocks.every((block, i) => block.offset === i * blockSize && block.size === Math.min(blockSize, size - block.offset));
}
