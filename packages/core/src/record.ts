import { equal } from '@sync/conflict';
import type { BlockInfo, FileRecord } from '@sync/protocol';
import type { FileStat } from './ports';
import { sharedVersion } from './shared-versions';

/** What the scanner last saw on disk for a path: equal fingerprints mean "unchanged, do not re-hash". */
export interface DiskFingerprint {
  size: number;
  mtimeMs: number;
  ino: number;
}

/** A record of the local index: the wire record plus local-only knowledge of the disk. */
export interface LocalRecord extends FileRecord {
  disk?: DiskFingerprint | undefined;
}

export function toWire(record: LocalRecord): FileRecord {
  const { disk: _disk, ...wire } = record;
  return wire;
}

/**
 * A stored record, local or a peer's: every field written out, in one order, by one literal, with
 * `sequence` and `disk` given apart (a peer's record has no disk: undefined). On Node 20 a record
 * made as `{ ...record, sequence }` gets a hidden class of its own, and V8 keeps a map and a
 * descriptor array for each (~450 B per record, 45 MB at 100,000 files in a heap snapshot, more
 * than the record's own fields); records built here share one. Node 24 shares it either way.
 */
export function localRecord(record: Omit<FileRecord, 'sequence'>, sequence: number, disk: DiskFingerprint | undefined): LocalRecord {
  return {
    path: record.path,
    type: record.type,
    size: record.size,
    mtimeMs: record.mtimeMs,
    mode: record.mode,
    hash: record.hash,
    blocks: record.blocks,
    target: record.target,
    deleted: record.deleted,
    version: record.version,
    modifiedBy: record.modifiedBy,
    sequence,
    disk,
  };
}

/**
 * A peer's record holding the local record's path, hash, block list and version wherever they are
 * equal: once nodes are in sync that is every record, and each peer's index then keeps one copy of
 * those values instead of its own (~270 B per file and peer). Records are never changed in place,
 * so sharing their values is safe.
 */
export function sharingLocal(remote: FileRecord, local: LocalRecord | undefined): FileRecord {
  const record: FileRecord = localRecord(remote, remote.sequence, undefined);
  record.version = sharedVersion(remote.version);
  if (!local || local.path !== remote.path) return record;
  // Set on the record just built, not spread into another: one object per received record.
  record.path = local.path;
  if (local.hash === remote.hash && sameBlocks(local.blocks, remote.blocks)) {
    record.hash = local.hash;
    record.blocks = local.blocks;
  }
  if (equal(local.version, remote.version)) record.version = local.version;
  return record;
}

/** Every field a peer's record carries, but its sequence, equal: the record says nothing ours does not. */
export function sameButSequence(a: FileRecord, b: FileRecord): boolean {
  return (
    a.path === b.path &&
    a.type === b.type &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.mode === b.mode &&
    a.hash === b.hash &&
    a.target === b.target &&
    a.deleted === b.deleted &&
    a.modifiedBy === b.modifiedBy &&
    equal(a.version, b.version) &&
    sameBlocks(a.blocks, b.blocks)
  );
}

export function sameBlocks(a: readonly BlockInfo[], b: readonly BlockInfo[]): boolean {
  return a.length === b.length && a.every((block, i) => block.offset === b[i]!.offset && block.size === b[i]!.size && block.hash === b[i]!.hash);
}

export function isLive(record: FileRecord | undefined): record is FileRecord {
  return record !== undefined && !record.deleted;
}

export function fingerprint(stat: FileStat): DiskFingerprint {
  return { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino };
}

export function sameFingerprint(a: DiskFingerprint | undefined, b: DiskFingerprint): boolean {
  return a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

/**
 * Modification times within a millisecond are the same time: a peer's mtime set with utimes reads
 * back up to a few nanoseconds off, because it passes through a double of seconds.
 */
export function sameMtime(a: number, b: number): boolean {
  return Math.abs(a - b) < 1;
}

/** Same bytes, link target or directory-ness: what makes two records interchangeable on disk. */
export function sameDiskContent(a: FileRecord | undefined, b: FileRecord | undefined): boolean {
  if (!isLive(a) || !isLive(b)) return !isLive(a) && !isLive(b);
  if (a.type !== b.type) return false;
  if (a.type === 'file') return a.hash === b.hash;
  if (a.type === 'symlink') return a.target === b.target;
  return true;
}

export function parentPath(path: string): string | null {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? null : path.slice(0, slash);
}

export function depth(path: string): number {
  let count = 0;
  for (const char of path) if (char === '/') count++;
  return count;
}

export function isInside(path: string, dir: string): boolean {
  return path.startsWith(`${dir}/`);
}
