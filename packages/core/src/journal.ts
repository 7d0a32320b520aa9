import { join } from 'node:path';
import type { FileSystem, WriteHandle } from './ports';
import type { StoredRecord } from './record';
import { readChunkBytesDefault, readLines, writeLinesAtomic } from './line-file';
import { encodeJournalLine, journalLinesOf, recordOfLine } from './journal-line';

const journalName = 'index.journal';
const snapshotName = 'index.snapshot';
const utf8 = new TextEncoder();
const newline = 0x0a;
/**
 * Lines are encoded as they are appended, into chunks of this size, and a full chunk goes to the
 * kernel without waiting for a flush. A cold scan of 100,000 files used to hold every line as a
 * string until the scan ended, then their joined copy and its bytes (~75 MB at once at the
 * daemon's peak); and lines held as strings until their write outlived the young generation,
 * a third of what a cold scan promoted to the old one (sampled). A written chunk is reused.
 */
const chunkBytes = 1 << 20;
/**
 * The durable index: an append-only journal of JSON lines (`encodeJournalLine`) over a periodic snapshot.
 * A line is fsynced before any peer hears of it (so neither SIGKILL nor power loss takes back what was
 * announced); other lines are fsynced on a timer and at stop. A torn last line is ignored.
 */
export class IndexJournal {
  /** Pending bytes: chunk[0, chunkUsed). */
  private chunk: Buffer | null = null;
  private chunkUsed = 0;
  private readonly spareChunks: Buffer[] = [];
  private linesInJournal = 0;
  private writing: Promise<void> = Promise.resolve();
  private dirtySinceSync = false;
  private syncing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly fs: FileSystem,
    private readonly stateDir: string,
    private handle: WriteHandle,
    linesInJournal: number,
    private readonly chunkBytes: number,
  ) {
    this.linesInJournal = linesInJournal;
  }

  /**
   * `readChunkBytes`: the replay buffer's starting size (tests make it small so lines straddle reads
   * and pieces); `writeChunkBytes`: the size of a chunk of pending lines (tests make it small so
   * lines fill chunks and outgrow them).
   */
  static async open(
    fs: FileSystem,
    stateDir: string,
    { readChunkBytes = readChunkBytesDefault, writeChunkBytes = chunkBytes }: { readChunkBytes?: number; writeChunkBytes?: number } = {},
  ): Promise<{ journal: IndexJournal; records: Map<string, StoredRecord> }> {
    const records = new Map<string, StoredRecord>();
    await replay(fs, join(stateDir, snapshotName), records, readChunkBytes, false);
    const journalPath = join(stateDir, journalName);
    const journalLines = await replay(fs, journalPath, records, readChunkBytes, true);
    const handle = await fs.openAppend(journalPath);
    return { journal: new IndexJournal(fs, stateDir, handle, journalLines, writeChunkBytes), records };
  }

  append(record: StoredRecord): void {
    const line = encodeJournalLine(record);
    this.linesInJournal++;
    if (this.put(line)) return;
    this.flush().catch(() => {}); // a failed write stays in `writing`, for the next flush or sync to report
    if (!this.put(line)) this.writeBytes(utf8.encode(`${line}\n`), null); // longer than a chunk
  }

  /** Hands pending lines to the kernel. Callers await this before announcing records. */
  flush(): Promise<void> {
    const chunk = this.chunk;
    if (chunk === null || this.chunkUsed === 0) return this.writing;
    this.writeBytes(chunk.subarray(0, this.chunkUsed), chunk);
    this.chunk = null;
    this.chunkUsed = 0;
    return this.writing;
  }

  /** Encodes the line and its newline into the current chunk; false when they do not fit. */
  private put(line: string): boolean {
    const chunk = (this.chunk ??= this.spareChunks.pop() ?? Buffer.allocUnsafe(this.chunkBytes));
    const { read, written } = utf8.encodeInto(line, chunk.subarray(this.chunkUsed, chunk.length - 1));
    if (read < line.length) return false;
    chunk[this.chunkUsed + written] = newline;
    this.chunkUsed += written + 1;
    return true;
  }

  /** Writes run one at a time, in order; `chunk` is reused once its write is done. */
  private writeBytes(data: Uint8Array, chunk: Buffer | null): void {
    this.dirtySinceSync = true;
    this.writing = this.writing.then(async () => {
      await this.handle.write(data, 0);
      if (chunk) this.spareChunks.push(chunk);
    });
  }

  /** Flushes, then fsyncs; a caller that finds an fsync in flight waits for it too. */
  async sync(): Promise<void> {
    await this.flush();
    if (this.dirtySinceSync) {
      this.dirtySinceSync = false;
      this.syncing = this.syncing.catch(() => {}).then(() => this.handle.sync());
    }
    await this.syncing;
  }

  shouldCompact(liveRecords: number): boolean {
    return this.linesInJournal > Math.max(50_000, liveRecords * 2);
  }

  /**
   * Writes `records` into a fresh snapshot, then empties the journal. `records` must be every
   * record as of this call (the caller takes them in the same tick): the cut is made here, before
   * any await, and lines appended after it are written only once the journal has been emptied.
   * Before, a line appended while the snapshot was being written could reach the journal and then
   * be emptied with it. A snapshot that fails leaves the journal as it was.
   */
  compact(records: readonly StoredRecord[]): Promise<void> {
    void this.flush().catch(() => {});
    // Every line appended so far, written or not, is in `records`.
    const cut = this.linesInJournal;
    const before = this.writing;
    const compaction = before.then(async () => {
      await this.writeSnapshot(records);
      await this.fs.truncate(join(this.stateDir, journalName), 0);
      this.linesInJournal -= cut;
    });
    this.writing = compaction.catch(() => before);
    return compaction;
  }

  async close(): Promise<void> {
    await this.sync();
    await this.handle.close();
  }

  /** Every record's line into a fresh snapshot, replacing the old one whole. */
  private writeSnapshot(records: readonly StoredRecord[]): Promise<void> {
    return writeLinesAtomic(this.fs, this.stateDir, snapshotName, journalLinesOf(records));
  }
}

/** Applies each line of the file at `path` to `records`; returns how many lines it holds (0 for no file). */
async function replay(fs: FileSystem, path: string, records: Map<string, StoredRecord>, chunkBytes: number, truncateTorn: boolean): Promise<number> {
  const read = await readLines(fs, path, (line) => applyLine(line, path, records), chunkBytes);
  if (!read) return 0;
  // What is left never got its newline: a torn last line, the write never completed.
  if (truncateTorn && read.torn) await fs.truncate(path, read.completeBytes);
  return read.lines;
}

function applyLine(line: string, path: string, records: Map<string, StoredRecord>): void {
  const record = recordOfLine(line, path);
  const existing = records.get(record.path);
  // Equal sequence: a later fingerprint-only update of the same version.
  if (!existing || record.sequence >= existing.sequence) records.set(record.path, record);
}
