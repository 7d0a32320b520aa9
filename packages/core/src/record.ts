import { equal } from '@sync/conflict';
import type { BlockInfo, FileRecord } from '@sync/protocol';
import type { FileStat } from './ports';

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
 * A peer's record holding the local record's path, hash, block list and version wherever they are
 * equal: once nodes are in sync that is every record, and each peer's index then keeps one copy of
 * those values instead of its own (~270 B per file and peer). Records are never changed in place,
 * so sharing their values is safe.
 */
export function sharingLocal(remote: FileRecord, local: LocalRecord | undefined): FileRecord {
  if (!local || local.path !== remote.path) return remote;
  const sameContent = local.hash === remote.hash && sameBlocks(local.blocks, remote.blocks);
  return {
    ...remote,
    path: local.path,
    hash: sameContent ? local.hash : remote.hash,
    blocks: sameContent ? local.blocks : remote.blocks,
    version: equal(local.version, remote.version) ? local.version : remote.version,
  };
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
