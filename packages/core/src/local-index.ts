import type { DiskFingerprint, LocalRecord } from './record';
import { parentPath, StoredRecord } from './record';
import type { IndexJournal } from './journal';

/** Where a block's bytes can be read locally. */
export interface BlockLocation {
  path: string;
  offset: number;
  size: number;
}

/** Block hash → its local places: a path (the whole of a one-block file), a location, or several. */
type BlockMap = Map<string, string | BlockLocation | BlockLocation[]>;

/** Files this large are found by inode (`largeFilesWithInode`); smaller ones are cheaper to hash than to track. */
export const largeFileBytesMin = 1024 * 1024;

/** What the live records of the index add up to. */
export interface IndexTotals {
  files: number;
  directories: number;
  symlinks: number;
  /** Sum of the live files' sizes. */
  bytes: number;
}

/**
 * The records of this node's own folder, ordered by local sequence so a peer can ask for
 * "everything after N". Every change goes to the journal. Records are held compactly
 * (`StoredRecord`); each read gives the caller a `LocalRecord` of its own, so whether the record
 * at a path is still the one read earlier is asked of `holds`, not by comparing objects.
 */
export class LocalIndex {
  private readonly records: Map<string, StoredRecord>;
  // The publish log as two parallel arrays: no object per entry to build at start-up or to collect.
  private logSequences: number[] = [];
  private logPaths: string[] = [];
  // Most blocks are held once, as the whole of a one-block file: such a block is stored as that
  // file's path alone (no object per file). Others as one location or several. Built after
  // start-up or on the first lookup: only pulls and pushes look blocks up, and a restart should
  // not wait for it (0.1 s at 100,000 records).
  private blocks: BlockMap | null = null;
  // Live large files by inode, so a new large file is matched to the file a move took it from
  // without a pass over every record (1-2 ms at 100,000, for each new large file). Built on first use.
  private largeFiles: Map<number, Set<string>> | null = null;
  // Paths by parent directory ('' for the top level), so a directory's subtree is found without a
  // pass over every record: the scanner asks for it at each deleted directory, and a tree of 1,000
  // directories deleted in a folder of 100,000 files was 10^8 path checks. Built on first use.
  private children: Map<string, Set<string>> | null = null;
  private readonly changeListeners = new Set<() => void>();
  private readonly replaceListeners = new Set<(previous: StoredRecord) => void>();
  private sequenceCounter: number;
  // Kept as records change: status and every metrics scrape read them, and counting 100,000
  // records took ~35 ms each time (a scrape read them 16 times: 0.6 s with the loop held).
  private readonly live: IndexTotals = { files: 0, directories: 0, symlinks: 0, bytes: 0 };

  constructor(
    records: Map<string, StoredRecord>,
    private readonly journal: IndexJournal,
    readonly indexId: string,
  ) {
    this.records = records;
    this.sequenceCounter = 0;
    for (const record of inSequenceOrder(records)) {
      this.sequenceCounter = Math.max(this.sequenceCounter, record.sequence);
      this.logSequences.push(record.sequence);
      this.logPaths.push(record.path);
      this.count(record, 1);
    }
  }

  get sequence(): number {
    return this.sequenceCounter;
  }

  get size(): number {
    return this.records.size;
  }

  totals(): IndexTotals {
    return { ...this.live };
  }

  get(path: string): LocalRecord | undefined {
    return this.records.get(path)?.toLocal();
  }

  /** The record as held, for a peer's index to share its values (`RemoteRecords`). */
  stored(path: string): StoredRecord | undefined {
    return this.records.get(path);
  }

  /**
   * Whether the record at `path` is still `record` as read earlier (no record, if undefined): the
   * same version with the same disk fingerprint. A scan that awaited something asks this before it
   * acts on what it read.
   */
  holds(path: string, record: LocalRecord | undefined): boolean {
    const stored = this.records.get(path);
    if (record === undefined || stored === undefined) return record === stored;
    return stored.sequence === record.sequence && stored.hasDisk(record.disk);
  }

  /** The records as held: passes over all of them (a journal snapshot, a walk's end) build none. */
  values(): IterableIterator<StoredRecord> {
    return this.records.values();
  }

  /** Records strictly inside `dir` (its whole subtree), tombstones included. */
  descendants(dir: string): LocalRecord[] {
    const children = this.childrenByParent();
    const result: LocalRecord[] = [];
    const pending = [dir];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      for (const path of children.get(next) ?? []) {
        const record = this.records.get(path);
        if (record) result.push(record.toLocal());
        if (children.has(path)) pending.push(path);
      }
    }
    return result;
  }

  /** Stores a new version: it gets the next sequence and is announced to peers. */
  publish(record: Omit<LocalRecord, 'sequence'>): StoredRecord {
    const stored = new StoredRecord(record, ++this.sequenceCounter, record.disk);
    this.store(stored);
    this.logSequences.push(stored.sequence);
    this.logPaths.push(stored.path);
    this.compactLog();
    for (const listener of this.changeListeners) listener();
    return stored;
  }

  /** Updates what we know of the disk without a new version (not announced). */
  updateFingerprint(path: string, disk: DiskFingerprint | undefined): void {
    const current = this.records.get(path);
    if (!current) return;
    this.store(new StoredRecord(current.toLocal(), current.sequence, disk));
  }

  /**
   * Records published after `sequence`, oldest first, as held: a peer's catch-up keeps the whole
   * list while it sends, and 100,000 records built for it would all outlive a young collection.
   */
  since(sequence: number): StoredRecord[] {
    let low = 0;
    let high = this.logSequences.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.logSequences[mid]! <= sequence) low = mid + 1;
      else high = mid;
    }
    const result: StoredRecord[] = [];
    for (let i = low; i < this.logSequences.length; i++) {
      const record = this.records.get(this.logPaths[i]!);
      if (record && record.sequence === this.logSequences[i]) result.push(record);
    }
    return result;
  }

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Told of each record about to be replaced by a new version (not of fingerprint updates). */
  onReplace(listener: (previous: StoredRecord) => void): () => void {
    this.replaceListeners.add(listener);
    return () => this.replaceListeners.delete(listener);
  }

  /**
   * Builds the block map now rather than on the first lookup, which would otherwise pay for it
   * (0.1 s at 100,000 files). The engine calls it once start-up is done.
   */
  prepareBlockLookups(): void {
    this.heldBlocks();
  }

  /** Local places that hold a block with this hash (live files of the index). */
  blockLocations(hash: string): readonly BlockLocation[] {
    const held = this.heldBlocks().get(hash);
    if (held === undefined) return [];
    if (typeof held === 'string') return [{ path: held, offset: 0, size: this.records.get(held)!.size }];
    return Array.isArray(held) ? held : [held];
  }

  /** Live files of at least `largeFileBytesMin` whose disk fingerprint has this inode (hard links: several). */
  largeFilesWithInode(ino: number): LocalRecord[] {
    return [...(this.largeFilesByInode().get(ino) ?? [])].map((path) => this.records.get(path)!.toLocal());
  }

  private store(record: StoredRecord): void {
    const previous = this.records.get(record.path);
    if (previous && previous.sequence !== record.sequence) for (const listener of this.replaceListeners) listener(previous);
    if (previous && this.blocks) this.removeBlocks(this.blocks, previous);
    if (previous && this.largeFiles) this.removeLargeFile(this.largeFiles, previous);
    if (previous) this.count(previous, -1);
    else if (this.children) addChild(this.children, record.path);
    this.records.set(record.path, record);
    this.count(record, 1);
    if (this.blocks) this.addBlocks(this.blocks, record);
    if (this.largeFiles) this.addLargeFile(this.largeFiles, record);
    this.journal.append(record);
  }

  private childrenByParent(): Map<string, Set<string>> {
    if (this.children) return this.children;
    const children = new Map<string, Set<string>>();
    for (const path of this.records.keys()) addChild(children, path);
    this.children = children;
    return children;
  }

  private largeFilesByInode(): Map<number, Set<string>> {
    if (this.largeFiles) return this.largeFiles;
    const largeFiles = new Map<number, Set<string>>();
    for (const record of this.records.values()) this.addLargeFile(largeFiles, record);
    this.largeFiles = largeFiles;
    return largeFiles;
  }

  private addLargeFile(largeFiles: Map<number, Set<string>>, record: StoredRecord): void {
    const ino = record.largeFileIno(largeFileBytesMin);
    if (ino === null) return;
    const paths = largeFiles.get(ino);
    if (paths) paths.add(record.path);
    else largeFiles.set(ino, new Set([record.path]));
  }

  private removeLargeFile(largeFiles: Map<number, Set<string>>, record: StoredRecord): void {
    const ino = record.largeFileIno(largeFileBytesMin);
    if (ino === null) return;
    const paths = largeFiles.get(ino);
    paths?.delete(record.path);
    if (paths?.size === 0) largeFiles.delete(ino);
  }

  private count(record: StoredRecord, sign: 1 | -1): void {
    if (record.deleted) return;
    if (record.type === 'file') {
      this.live.files += sign;
      this.live.bytes += sign * record.size;
    } else if (record.type === 'dir') this.live.directories += sign;
    else this.live.symlinks += sign;
  }

  /** In publish order, as if every record had been added as it was published. */
  private heldBlocks(): BlockMap {
    if (this.blocks) return this.blocks;
    const blocks: BlockMap = new Map();
    this.blocks = blocks;
    for (let i = 0; i < this.logSequences.length; i++) {
      const record = this.records.get(this.logPaths[i]!);
      if (record && record.sequence === this.logSequences[i]) this.addBlocks(blocks, record);
    }
    return blocks;
  }

  private addBlocks(blocks: BlockMap, record: StoredRecord): void {
    if (record.deleted || record.type !== 'file') return;
    const list = record.blockList();
    const only = list.length === 1 ? list[0]! : undefined;
    const wholeFile = only !== undefined && only.offset === 0 && only.size === record.size;
    for (const block of list) {
      const held = blocks.get(block.hash);
      if (held === undefined) {
        blocks.set(block.hash, wholeFile ? record.path : { path: record.path, offset: block.offset, size: block.size });
        continue;
      }
      const location = { path: record.path, offset: block.offset, size: block.size };
      if (Array.isArray(held)) held.push(location);
      else blocks.set(block.hash, [...this.blockLocations(block.hash), location]);
    }
  }

  private removeBlocks(blocks: BlockMap, record: StoredRecord): void {
    if (record.deleted || record.type !== 'file') return;
    for (const block of record.blockList()) {
      const remaining = this.blockLocations(block.hash).filter((location) => location.path !== record.path);
      if (remaining.length === 0) blocks.delete(block.hash);
      else blocks.set(block.hash, remaining.length === 1 ? remaining[0]! : remaining);
    }
  }

  /** Superseded log entries are dropped once they outnumber live ones. */
  private compactLog(): void {
    if (this.logSequences.length < 1024 || this.logSequences.length < this.records.size * 2) return;
    const sequences: number[] = [];
    const paths: string[] = [];
    for (let i = 0; i < this.logSequences.length; i++) {
      if (this.records.get(this.logPaths[i]!)?.sequence !== this.logSequences[i]) continue;
      sequences.push(this.logSequences[i]!);
      paths.push(this.logPaths[i]!);
    }
    this.logSequences = sequences;
    this.logPaths = paths;
  }
}

/**
 * Records are never removed from the index (a delete is a tombstone), so children are only added.
 * A directory gets its set with its first child and is then listed under its own parent, record or
 * not, so every path stays reachable from the directories above it.
 */
function addChild(children: Map<string, Set<string>>, path: string): void {
  for (let child = path; ; ) {
    const parent = parentPath(child) ?? '';
    const siblings = children.get(parent);
    if (siblings) {
      siblings.add(child);
      return;
    }
    children.set(parent, new Set([child]));
    if (parent === '') return;
    child = parent;
  }
}

/** A replayed journal is nearly always in sequence order already: sort only when it is not. */
function inSequenceOrder(records: Map<string, StoredRecord>): Iterable<StoredRecord> {
  let previous = -Infinity;
  for (const record of records.values()) {
    if (record.sequence < previous) return [...records.values()].sort((a, b) => a.sequence - b.sequence);
    previous = record.sequence;
  }
  return records.values();
}
