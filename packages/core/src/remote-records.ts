import type { FileRecord } from '@sync/protocol';
import type { StoredRecord } from './record';
import { sameButSequence, sharingLocal } from './record';

/** Our own record for a path, as the local index holds it now. */
export type LocalLookup = (path: string) => StoredRecord | undefined;

/**
 * The records one peer has told us about, by path. Where the peer's record equals ours in
 * everything but its sequence (once nodes are in sync, nearly every record) only that sequence is
 * kept: a number in the map, no object. Such an entry stands for our record as it is now, so
 * before our record for its path changes, `localReplaced` gives the entry the values it had.
 */
export class RemoteRecords {
  private readonly entries = new Map<string, StoredRecord | number>();

  constructor(private readonly local: LocalLookup) {}

  get size(): number {
    return this.entries.size;
  }

  has(path: string): boolean {
    return this.entries.has(path);
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Paths whose record is not ours as it is now (the others give nothing to plan). */
  differingFromLocal(): string[] {
    const paths: string[] = [];
    for (const [path, entry] of this.entries) if (typeof entry !== 'number') paths.push(path);
    return paths;
  }

  clear(): void {
    this.entries.clear();
  }

  /** A fresh object each time: callers may keep it. */
  get(path: string): FileRecord | undefined {
    const entry = this.entries.get(path);
    if (entry === undefined) return undefined;
    if (typeof entry === 'number') return this.local(path)!.toLocal(entry, false);
    return entry.toLocal();
  }

  /** Stores what the peer sent, against our record for the same path as it is now. */
  set(remote: FileRecord, local: StoredRecord | undefined): void {
    if (local && sameButSequence(remote, local)) this.entries.set(remote.path, remote.sequence);
    else this.entries.set(remote.path, sharingLocal(remote, local));
  }

  /** A record of the peer's as saved before a restart, against our record for its path as it is now. */
  restore(record: StoredRecord): void {
    const local = this.local(record.path);
    if (local && sameButSequence(record, local)) this.entries.set(record.path, record.sequence);
    else if (local) this.entries.set(record.path, sharingLocal(record.toLocal(record.sequence, false), local));
    else this.entries.set(record.path, record);
  }

  /** Every record, each as a stored record of its own (to be saved: this builds one per in-sync entry). */
  stored(): StoredRecord[] {
    const result: StoredRecord[] = [];
    for (const [path, entry] of this.entries) result.push(typeof entry === 'number' ? this.local(path)!.withSequence(entry) : entry);
    return result;
  }

  /** Compacts the entry for a path whose local record may now match it (a pull adopted it). */
  matchLocal(path: string, local: StoredRecord): void {
    const entry = this.entries.get(path);
    if (entry === undefined || typeof entry === 'number') return;
    if (sameButSequence(entry, local)) this.entries.set(path, entry.sequence);
  }

  /** Our record `previous` is about to be replaced by a new version: an entry that stood for it keeps its values. */
  localReplaced(previous: StoredRecord): void {
    const entry = this.entries.get(previous.path);
    if (typeof entry === 'number') this.entries.set(previous.path, previous.withSequence(entry));
  }
}
