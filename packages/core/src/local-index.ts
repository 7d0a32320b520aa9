import type { LocalRecord } from './record';
import { isLive, isInside } from './record';
import type { IndexJournal } from './journal';

interface LogEntry {
  sequence: number;
  path: string;
}

/** Where a block's bytes can be read locally. */
export interface BlockLocation {
  path: string;
  offset: number;
  size: number;
}

/**
 * The records of this node's own folder, ordered by local sequence so a peer can ask for
 * "everything after N". Every change goes to the journal.
 */
export class LocalIndex {
  private readonly records: Map<string, LocalRecord>;
  private log: LogEntry[] = [];
  private readonly blocks = new Map<string, BlockLocation[]>();
  private readonly changeListeners = new Set<() => void>();
  private sequenceCounter: number;

  constructor(
    records: Map<string, LocalRecord>,
    private readonly journal: IndexJournal,
    readonly indexId: string,
  ) {
    this.records = records;
    this.sequenceCounter = 0;
    const ordered = [...records.values()].sort((a, b) => a.sequence - b.sequence);
    for (const record of ordered) {
      this.sequenceCounter = Math.max(this.sequenceCounter, record.sequence);
      this.log.push({ sequence: record.sequence, path: record.path });
      this.addBlocks(record);
    }
  }

  get sequence(): number {
    return this.sequenceCounter;
  }

  get size(): number {
    return this.records.size;
  }

  get(path: string): LocalRecord | undefined {
    return this.records.get(path);
  }

  values(): IterableIterator<LocalRecord> {
    return this.records.values();
  }

  /** Records strictly inside `dir` (its whole subtree). */
  descendants(dir: string): LocalRecord[] {
    const result: LocalRecord[] = [];
    for (const record of this.records.values()) if (isInside(record.path, dir)) result.push(record);
    return result;
  }

  /** Stores a new version: it gets the next sequence and is announced to peers. */
  publish(record: Omit<LocalRecord, 'sequence'>): LocalRecord {
    const stored: LocalRecord = { ...record, sequence: ++this.sequenceCounter };
    this.store(stored);
    this.log.push({ sequence: stored.sequence, path: stored.path });
    this.compactLog();
    for (const listener of this.changeListeners) listener();
    return stored;
  }

  /** Updates what we know of the disk without a new version (not announced). */
  updateFingerprint(path: string, disk: LocalRecord['disk']): void {
    const current = this.records.get(path);
    if (!current) return;
    this.store({ ...current, disk });
  }

  /** Records published after `sequence`, oldest first. */
  since(sequence: number): LocalRecord[] {
    let low = 0;
    let high = this.log.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.log[mid]!.sequence <= sequence) low = mid + 1;
      else high = mid;
    }
    const result: LocalRecord[] = [];
    for (let i = low; i < this.log.length; i++) {
      const entry = this.log[i]!;
      const record = this.records.get(entry.path);
      if (record && record.sequence === entry.sequence) result.push(record);
    }
    return result;
  }

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Local places that hold a block with this hash (live files of the index). */
  blockLocations(hash: string): readonly BlockLocation[] {
    return this.blocks.get(hash) ?? [];
  }

  private store(record: LocalRecord): void {
    const previous = this.records.get(record.path);
    if (previous) this.removeBlocks(previous);
    this.records.set(record.path, record);
    this.addBlocks(record);
    this.journal.append(record);
  }

  private addBlocks(record: LocalRecord): void {
    if (!isLive(record) || record.type !== 'file') return;
    for (const block of record.blocks) {
      const list = this.blocks.get(block.hash);
      const location = { path: record.path, offset: block.offset, size: block.size };
      if (list) list.push(location);
      else this.blocks.set(block.hash, [location]);
    }
  }

  private removeBlocks(record: LocalRecord): void {
    if (!isLive(record) || record.type !== 'file') return;
    for (const block of record.blocks) {
      const list = this.blocks.get(block.hash);
      if (!list) continue;
      const remaining = list.filter((location) => location.path !== record.path);
      if (remaining.length) this.blocks.set(block.hash, remaining);
      else this.blocks.delete(block.hash);
    }
  }

  /** Superseded log entries are dropped once they outnumber live ones. */
  private compactLog(): void {
    if (this.log.length < 1024 || this.log.length < this.records.size * 2) return;
    this.log = this.log.filter((entry) => this.records.get(entry.path)?.sequence === entry.sequence);
  }
}
