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
 * A record as the indexes hold it: the fields of a `LocalRecord`, but the disk fingerprint as three
 * fields of its own, and no block list for a file of one block (the usual small file), whose one
 * block follows from its size and hash. That is ~150 B less per record than holding `LocalRecord`
 * objects with their fingerprint and one-element list (196 against 349 B with the Map entry, by
 * a standalone count of 100,000; strings not counted). Never handed out: `toLocal` gives callers
 * a `LocalRecord` of their own. Immutable, like `LocalRecord`: a change stores a new one.
 */
export class StoredRecord {
  readonly path: string;
  readonly type: FileRecord['type'];
  readonly size: number;
  readonly mtimeMs: number;
  readonly mode: number;
  readonly hash: string;
  /** Null: the file's one block, `{ offset: 0, size, hash }`. */
  private readonly ownBlocks: BlockInfo[] | null;
  readonly target: FileRecord['target'];
  readonly deleted: boolean;
  readonly version: FileRecord['version'];
  readonly modifiedBy: string;
  readonly sequence: number;
  // The fingerprint; `diskIno` -1 when there is none (a peer's record, a record not yet on disk).
  private readonly diskSize: number;
  // Undefined when it is the record's mtime, as for every file this node scanned (a pulled file's
  // reads back a few nanoseconds off). A field that only ever held numbers would box each one
  // apart (16 B a record); one that may hold undefined costs nothing then.
  private readonly diskMtimeMs: number | undefined;
  private readonly diskIno: number;

  constructor(record: Omit<FileRecord, 'sequence'>, sequence: number, disk: DiskFingerprint | undefined) {
    this.path = record.path;
    this.type = record.type;
    this.size = record.size;
    this.mtimeMs = record.mtimeMs;
    this.mode = record.mode;
    this.hash = record.hash;
    this.ownBlocks = isOneBlockOf(record.blocks, record) ? null : record.blocks;
    this.target = record.target;
    this.deleted = record.deleted;
    this.version = record.version;
    this.modifiedBy = record.modifiedBy;
    this.sequence = sequence;
    this.diskSize = disk?.size ?? 0;
    this.diskMtimeMs = disk === undefined || disk.mtimeMs === record.mtimeMs ? undefined : disk.mtimeMs;
    this.diskIno = disk?.ino ?? -1;
  }

  /** A fresh list, but for files of several blocks (their list is shared: lists are never changed). */
  blockList(): BlockInfo[] {
    return this.ownBlocks ?? [{ offset: 0, size: this.size, hash: this.hash }];
  }

  /** The block list as given, or null for the implied one block: what a peer's record may share. */
  sharedBlocks(): BlockInfo[] | null {
    return this.ownBlocks;
  }

  diskFingerprint(): DiskFingerprint | undefined {
    return this.diskIno === -1 ? undefined : { size: this.diskSize, mtimeMs: this.diskMtimeMs ?? this.mtimeMs, ino: this.diskIno };
  }

  /** Whether the disk fingerprint is this one (or both are absent), without building it. */
  hasDisk(disk: DiskFingerprint | undefined): boolean {
    if (disk === undefined) return this.diskIno === -1;
    return this.diskIno === disk.ino && this.diskSize === disk.size && (this.diskMtimeMs ?? this.mtimeMs) === disk.mtimeMs;
  }

  /** Live, a file, and its disk fingerprint at least this large: its inode (else null). */
  largeFileIno(bytesMin: number): number | null {
    return !this.deleted && this.type === 'file' && this.diskIno !== -1 && this.diskSize >= bytesMin ? this.diskIno : null;
  }

  /** The same record as a peer's, with the peer's sequence and no disk fingerprint; values shared. */
  withSequence(sequence: number): StoredRecord {
    return new StoredRecord(this.toLocal(sequence, false), sequence, undefined);
  }

  /**
   * The record as callers see it: a `LocalRecord` of their own, with `sequence` given apart. As a
   * peer's or for the wire, without the disk fingerprint (`withDisk` false: JSON leaves it out).
   */
  toLocal(sequence = this.sequence, withDisk = true): LocalRecord {
    return {
      path: this.path,
      type: this.type,
      size: this.size,
      mtimeMs: this.mtimeMs,
      mode: this.mode,
      hash: this.hash,
      blocks: this.blockList(),
      target: this.target,
      deleted: this.deleted,
      version: this.version,
      modifiedBy: this.modifiedBy,
      sequence,
      disk: withDisk ? this.diskFingerprint() : undefined,
    };
  }
}

/** A live file's whole content as its one block: the list a `StoredRecord` leaves out. */
function isOneBlockOf(blocks: readonly BlockInfo[], record: Pick<FileRecord, 'size' | 'hash'>): boolean {
  if (blocks.length !== 1) return false;
  const only = blocks[0]!;
  return only.offset === 0 && only.size === record.size && only.hash === record.hash;
}

/**
 * A peer's record holding the local record's path, hash, block list and version wherever they are
 * equal: once nodes are in sync that is every record, and each peer's index then keeps one copy of
 * those values instead of its own (~270 B per file and peer). Records are never changed in place,
 * so sharing their values is safe.
 */
export function sharingLocal(remote: FileRecord, local: StoredRecord | undefined): StoredRecord {
  const version = sharedVersion(remote.version);
  if (!local || local.path !== remote.path) return new StoredRecord({ ...remote, version }, remote.sequence, undefined);
  const sameContent = local.hash === remote.hash && sameBlocks(local.blockList(), remote.blocks);
  return new StoredRecord(
    {
      ...remote,
      path: local.path,
      hash: sameContent ? local.hash : remote.hash,
      blocks: sameContent ? (local.sharedBlocks() ?? remote.blocks) : remote.blocks,
      version: equal(local.version, remote.version) ? local.version : version,
    },
    remote.sequence,
    undefined,
  );
}

/** Every field a peer's record carries, but its sequence, equal: the record says nothing ours does not. */
export function sameButSequence(a: FileRecord | StoredRecord, b: FileRecord | StoredRecord): boolean {
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
    (bothOneBlock(a, b) || sameBlocks(blocksOf(a), blocksOf(b)))
  );
}

/** Two stored records that each leave out their one block: with equal sizes and hashes, equal lists, none built. */
function bothOneBlock(a: FileRecord | StoredRecord, b: FileRecord | StoredRecord): boolean {
  return a instanceof StoredRecord && b instanceof StoredRecord && a.sharedBlocks() === null && b.sharedBlocks() === null;
}

function blocksOf(record: FileRecord | StoredRecord): readonly BlockInfo[] {
  return record instanceof StoredRecord ? record.blockList() : record.blocks;
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
