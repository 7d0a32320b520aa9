import type { FileRecord } from '@sync/protocol';
import type { StoredRecord } from './record';
import { sameButSequence, sharingLocal } from './record';

/**
 * A peer's record equal to a local record in everything but its sequence: once nodes are in
 * sync that is nearly every record, and this keeps two fields (~40 B) where a record object
 * takes ~150 B. The local record is held as it was, so a later local change does not alter
 * what the peer said.
 */
class InSync {
  constructor(
    readonly local: StoredRecord,
    readonly sequence: number,
  ) {}
}

/** The records one peer has told us about, by path, stored compactly where they match ours. */
export class RemoteRecords {
  private readonly entries = new Map<string, StoredRecord | InSync>();

  get size(): number {
    return this.entries.size;
  }

  has(path: string): boolean {
    return this.entries.has(path);
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  clear(): void {
    this.entries.clear();
  }

  /** A fresh object each time: callers may keep it. */
  get(path: string): FileRecord | undefined {
    const entry = this.entries.get(path);
    if (entry === undefined) return undefined;
    if (entry instanceof InSync) return entry.local.toLocal(entry.sequence, false);
    return entry.toLocal();
  }

  /** Stores what the peer sent, against our record for the same path as it is now. */
  set(remote: FileRecord, local: StoredRecord | undefined): void {
    if (local && sameButSequence(remote, local)) this.entries.set(remote.path, new InSync(local, remote.sequence));
    else this.entries.set(remote.path, sharingLocal(remote, local));
  }

  /** Compacts the entry for a path whose local record may now match it (a pull adopted it). */
  matchLocal(path: string, local: StoredRecord): void {
    const entry = this.entries.get(path);
    if (entry === undefined || entry instanceof InSync) return;
    if (sameButSequence(entry, local)) this.entries.set(path, new InSync(local, entry.sequence));
  }
}
