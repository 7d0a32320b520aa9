import { increment } from '@sync/conflict';
import type { VersionVector } from '@sync/conflict';
import type { EngineContext } from './context';
import type { FileStat } from './ports';
import type { LocalRecord, StoredRecord } from './record';
import { fingerprint, isLive, sameFingerprint, sameMtime } from './record';
import { largeFileBytesMin } from './local-index';
import { ExpiringMap } from './expiring-map';
import { hashFile } from './hashing';
import type { FileDigest, HashBuffers } from './hashing';
import { SyncError, errnoCode } from './errors';
import type { ChangeOp } from './events';

/** How long a deleted large file's fingerprint may still name the file a move put elsewhere. */
const deletedKeepMs = 60_000;
/** Block entries the remembered records may hold in all (~80 B each): a 1 GiB file has 8,192. */
const deletedBlocksMax = 100_000;
/** Smaller deleted files remembered by inode (~150 B each). */
const deletedSmallFilesMax = 4096;
/**
 * How long scans may run before the loop turns. A small file's scan awaits only I/O done inline,
 * so without a yield a burst of thousands ran as one chain of microtasks: no timer, no socket and
 * no announcement until the last file was hashed (10,000 files: 1.1-1.8 s), and peers sat idle.
 */
export const scanChainMsMax = 50;
/** Entries a walk checks between two turns of the event loop: a walk of indexed, unchanged files awaits nothing else. */
export const walkEntriesPerTurn = 4096;
/** A walk waits while this many paths are queued, until the pump has taken them down to `walkQueueResumeSize`. */
const walkQueueSizeMax = 256;
const walkQueueResumeSize = 64;

export interface ScannerOptions {
  quietPeriodMs: number;
  scansInFlightMax: number;
  /** Told after every scan through the queue, so the puller can re-decide paths that peers also have. */
  onScanned?: (path: string) => void;
  /**
   * Asked once the initial walk knows which indexed paths vanished while the node was down:
   * a reason to hold those deletes back (an unmounted volume, a mass delete), or null.
   */
  holdDeletes?: (vanished: readonly string[], live: number) => string | null;
  /** A path that could not be read (permission denied, locked, I/O error) is tried again after this. */
  retryDelayMs?: number;
  /** A hash that takes longer than this is reported ('hash-progress') this often. */
  progressIntervalMs?: number;
  /** Read buffers for hashing, reused (a `BlockPool`); fresh ones per file without. */
  hashBuffers?: HashBuffers;
}

export interface HeldDeletes {
  count: number;
  reason: string;
}

/** A directory's entries, or why they could not be read. */
type Listing = { entries: Awaited<ReturnType<EngineContext['fs']['readdir']>> } | { error: unknown };

/**
 * Turns what the disk holds into index records. A path is scanned after a quiet period with no
 * events; it gets a new version only when its content, mode or type changed.
 */
export class Scanner {
  private readonly timers = new Map<string, unknown>();
  private readonly queue = new Set<string>();
  private queueWaiters: (() => void)[] = [];
  /** The paths each running folder walk has listed so far (its `seen`). */
  private readonly folderWalks = new Set<Set<string>>();
  private readonly scanning = new Set<string>();
  private readonly rescan = new Set<string>();
  private running = 0;
  private turnStartedAtMs: number | null = null;
  private pumpNextTurn = false;
  private walkedSinceYield = 0;
  private stopped = false;
  /**
   * A new path's first version, the same vector for every one: held once, not once per new file
   * (56 B each at 100,000 files). Versions are never changed in place, so sharing one is safe.
   */
  private readonly firstVersion: VersionVector;
  private idleWaiters: (() => void)[] = [];
  /** Paths whose last scan failed: reported once, retried until they succeed. */
  private readonly failing = new Map<string, unknown>();
  /** Deletes found by a scan but not published until confirmed. */
  private readonly held = new Set<string>();
  private heldReason = '';
  /**
   * Large files whose deletes were published, by inode, oldest first: a move whose old name the
   * scanner reached before its new one is still known as a move when the new one comes.
   */
  private readonly recentlyDeleted = new ExpiringMap<number, LocalRecord>(deletedKeepMs, deletedBlocksMax);
  /** Smaller files' hashes, by the inode their deletes were published with: see `movedOver`. */
  private readonly recentlyDeletedSmall = new ExpiringMap<number, string>(deletedKeepMs, deletedSmallFilesMax);

  constructor(
    private readonly ctx: EngineContext,
    private readonly options: ScannerOptions,
  ) {
    this.firstVersion = increment({}, ctx.nodeId);
    // Scanned at once: what it waited out was the engine's own write, not a user's.
    ctx.busy.onReleased((path) => {
      this.enqueue(path);
      // Stopped, it enqueues nothing: this path was all a waiter may have been waiting for.
      this.notifyIdle();
    });
  }

  /** Called for each watcher event: (re)starts the path's quiet period. */
  schedule(path: string): void {
    if (this.stopped || this.ctx.folder.isForbidden(path)) return;
    const timer = this.timers.get(path);
    if (timer !== undefined) this.ctx.clock.clearTimeout(timer);
    if (this.ctx.busy.has(path)) {
      // Most often the watcher's report of a file the puller is committing: scanned once the
      // puller is done (no timer for it).
      if (timer !== undefined) this.timers.delete(path);
      this.ctx.busy.awaitRelease(path);
      return;
    }
    this.timers.set(
      path,
      this.ctx.clock.setTimeout(() => {
        this.timers.delete(path);
        this.enqueue(path);
      }, this.options.quietPeriodMs),
    );
  }

  enqueue(path: string): void {
    if (this.stopped) return;
    if (this.scanning.has(path)) {
      this.rescan.add(path);
      return;
    }
    this.queue.add(path);
    this.pump();
  }

  get pending(): number {
    return this.timers.size + this.queue.size + this.scanning.size + this.ctx.busy.awaiting;
  }

  /** Resolves when no scan is queued, waiting or running. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.failing.values()) this.ctx.clock.clearTimeout(timer);
    this.failing.clear();
    for (const timer of this.timers.values()) this.ctx.clock.clearTimeout(timer);
    this.timers.clear();
    this.queue.clear();
    this.queueShrank();
    this.notifyIdle();
  }

  /**
   * Walks the whole folder: new and changed entries get versions, vanished ones tombstones. Runs
   * at start-up, after the ignore rules change, and periodically on a running node.
   */
  async scanFolder(): Promise<void> {
    const seen = new Set<string>();
    this.folderWalks.add(seen);
    try {
      await this.walk('', seen);
    } finally {
      this.folderWalks.delete(seen);
    }
    // Paths, not records: this pass reads every record, and records built for it would be garbage
    // promoted by the thousand (a start-up's peak).
    const live: string[] = [];
    for (const record of this.ctx.index.values()) if (!record.deleted && !this.isIgnoredRecord(record)) live.push(record.path);
    const vanished: string[] = [];
    for (const path of live) {
      // Unseen is not gone: on a running node the puller may have put the file in place after
      // its directory was listed.
      if (!seen.has(path) && (await this.ctx.fs.lstat(this.ctx.folder.abs(path))) === null) vanished.push(path);
    }
    const reason = vanished.length > 0 ? (this.options.holdDeletes?.(vanished, live.length) ?? null) : null;
    if (reason) {
      for (const path of vanished) this.held.add(path);
      this.heldReason = reason;
    } else {
      for (const path of vanished) this.enqueue(path);
    }
    await this.whenIdle();
  }

  get heldDeletes(): HeldDeletes | null {
    return this.held.size > 0 ? { count: this.held.size, reason: this.heldReason } : null;
  }

  /** Is this path's delete held (not yet confirmed): found gone at start-up, or gone since under a directory that was? */
  holdsDelete(path: string): boolean {
    return this.held.has(path);
  }

  /** Publishes the held deletes (those paths are scanned again: a file that came back stays). */
  releaseHeldDeletes(): number {
    const paths = [...this.held];
    this.held.clear();
    for (const path of paths) this.enqueue(path);
    return paths.length;
  }

  private isIgnoredRecord(record: Pick<LocalRecord, 'path' | 'type'>): boolean {
    return this.ctx.isIgnored(record.path, record.type === 'dir');
  }

  /** Never rejects, so a listing asked for ahead of its walk cannot become an unhandled rejection. */
  private list(absDir: string): Promise<Listing> {
    return this.ctx.fs.readdir(absDir).then(
      (entries) => ({ entries }),
      (error: unknown) => ({ error }),
    );
  }

  private async walk(dir: string, seen: Set<string>, listing?: Promise<Listing>): Promise<void> {
    const absDir = dir ? this.ctx.folder.abs(dir) : this.ctx.folder.root;
    const listed = await (listing ?? this.list(absDir));
    if ('error' in listed) {
      // Gone since its parent was listed: decided with the other vanished paths, as below.
      if (dir && errnoCode(listed.error) === 'ENOENT') seen.delete(dir);
      else this.reportError(dir, listed.error);
      return;
    }
    const subdirs: string[] = [];
    for (const entry of listed.entries) {
      // `dir` is canonical already, and '/' composes with nothing: normalising the name is enough.
      const name = entry.name.normalize('NFC');
      const path = dir ? `${dir}/${name}` : name;
      if (this.ctx.folder.isForbidden(path) || this.ctx.isIgnored(path, entry.type === 'dir')) continue;
      seen.add(path);
      // The common case of a restart, settled here rather than through the scan queue: an indexed
      // file or directory still as indexed (a dozen set and map operations fewer per entry). A path
      // whose scan is running or failing goes through the queue as usual. The path passed the rules
      // just above, so its absolute form is the directory's plus one checked segment.
      // Nothing is awaited for an entry the index does not hold as this type: an await per new
      // directory changed how the walk and those directories' scans interleave, and raised the cold
      // peak at 100,000 files by a third (BENCHMARKS.md).
      // The record as held: a record built for each entry of a restart's walk would be garbage.
      const held = this.ctx.index.stored(path);
      const state =
        this.scanning.has(path) || this.failing.has(path) || held === undefined || held.deleted || held.type !== entry.type ? 'other' : await this.indexedState(held, entry.type, `${absDir}/${name}`);
      // Gone since the listing (a volume unmounted mid-walk): decided with every other vanished
      // path once the walk is done, so a mass delete is held whole rather than leaking a part (a
      // directory's scan would delete its subtree).
      if (state === 'gone') {
        seen.delete(path);
        continue;
      }
      // Still as indexed: the puller's plans for it stand, so it is not told (re-planning every
      // path of a peer's index after a walk cost a restart at 100,000 files ~1 CPU s).
      if (state !== 'unchanged') this.enqueue(path);
      if (entry.type === 'dir') subdirs.push(path);
      // Keep the queue short so memory stays flat on huge trees.
      if (this.queue.size > walkQueueSizeMax) await this.whenQueueDrained();
      if (++this.walkedSinceYield >= walkEntriesPerTurn) {
        this.walkedSinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    // Each directory is listed (on the libuv pool) while the one before it is walked, so the walk
    // does not sit idle waiting for every listing: that was a sixth of a restart at 1,000 directories.
    // A listing taken early is safe: the watcher runs already and reports what changes after it.
    let next = subdirs.length > 0 ? this.list(this.ctx.folder.abs(subdirs[0]!)) : undefined;
    for (let i = 0; i < subdirs.length; i++) {
      const current = next;
      next = i + 1 < subdirs.length ? this.list(this.ctx.folder.abs(subdirs[i + 1]!)) : undefined;
      await this.walk(subdirs[i]!, seen, current);
    }
  }

  /**
   * Resolves once the queue is down to `walkQueueResumeSize`, told by the pump as it takes paths.
   * It used to poll on every turn of the loop: an immediate and a closure per turn for as long as
   * the walk waited, enough of them promoted to the old generation to show in a cold scan's
   * memory (~4 MB at 100,000 files, sampled).
   */
  private whenQueueDrained(): Promise<void> {
    if (this.queue.size < walkQueueResumeSize || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.queueWaiters.push(resolve));
  }

  private queueShrank(): void {
    if (this.queueWaiters.length === 0 || (this.queue.size >= walkQueueResumeSize && !this.stopped)) return;
    const waiters = this.queueWaiters;
    this.queueWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private pump(): void {
    while (this.running < this.options.scansInFlightMax && this.queue.size > 0) {
      if (!this.mayStartScan()) return;
      const path = this.queue.values().next().value as string;
      this.queue.delete(path);
      this.queueShrank();
      if (this.ctx.busy.has(path)) {
        // The engine is writing this path: it is enqueued again once released (see the constructor).
        this.ctx.busy.awaitRelease(path);
        continue;
      }
      this.running++;
      this.scanning.add(path);
      void this.scanPath(path).finally(() => {
        this.running--;
        this.scanning.delete(path);
        this.options.onScanned?.(path);
        if (this.rescan.delete(path)) this.queue.add(path);
        this.pump();
        this.notifyIdle();
      });
    }
  }

  /**
   * Past `scanChainMsMax` of scans since the loop last turned, the pump waits for the next turn.
   * Every such turn lets peers' requests and index in mid-scan: the work overlaps, which is the
   * point, and a cold start's garbage piles higher meanwhile (its peak at 100,000 files rose by a
   * fifth; BENCHMARKS.md).
   */
  private mayStartScan(): boolean {
    const now = this.ctx.clock.now();
    if (this.turnStartedAtMs === null) {
      this.turnStartedAtMs = now;
      setImmediate(() => {
        this.turnStartedAtMs = null;
        if (!this.pumpNextTurn) return;
        this.pumpNextTurn = false;
        // On the next turn: pumped here, the next chain of scans ran before the immediates queued
        // during the last one (the flush of an announcement among them), which so waited for two
        // chains of up to `scanChainMsMax` each instead of one.
        setImmediate(() => this.pump());
      });
    }
    if (now - this.turnStartedAtMs < scanChainMsMax) return true;
    this.pumpNextTurn = true;
    return false;
  }

  private notifyIdle(): void {
    if (this.pending > 0 && !this.stopped) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async scanPath(path: string): Promise<void> {
    try {
      await this.scanPathOnce(path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        this.enqueueLater(path);
        return;
      }
      this.retryLater(path, error);
      return;
    }
    this.recovered(path);
  }

  private async scanPathOnce(path: string): Promise<void> {
    if ((await this.indexedState(this.ctx.index.stored(path), 'file', this.ctx.folder.abs(path))) === 'unchanged') return;
    const before = this.ctx.index.get(path);
    const stat = await this.ctx.folder.stat(path);
    if (!stat || stat.type === 'other') {
      if (isLive(before)) await this.recordDeletion(before);
      return;
    }
    if (stat.type === 'dir') return this.scanDir(path, stat, before);
    if (stat.type === 'symlink') return await this.scanSymlink(path, stat, before);
    return await this.scanFile(path, stat, before);
  }

  /**
   * How an indexed file (with its fingerprint) or directory listed as `listedType` stands on disk.
   * `other`: not such an entry, or changed; the scan queue decides. The common case of a restart
   * is a file with the fingerprint and mode it had: one lstat, without the parent checks of
   * `folder.stat` (nothing is read, and the same inode, size and mtime is the indexed file
   * whichever way its parents resolve).
   */
  private async indexedState(before: StoredRecord | undefined, listedType: string, absPath: string): Promise<'unchanged' | 'gone' | 'other'> {
    if (before === undefined || before.deleted || before.type !== listedType || (before.type === 'file' ? before.hasDisk(undefined) : before.type !== 'dir')) return 'other';
    const stat = await this.ctx.fs.lstat(absPath);
    if (stat === null) return 'gone';
    if (stat.type !== before.type) return 'other';
    return (before.type === 'dir' || before.hasDisk(stat)) && stat.mode === before.mode ? 'unchanged' : 'other';
  }

  private retryLater(path: string, error: unknown): void {
    if (this.stopped) return;
    if (!this.failing.has(path)) this.reportError(path, error);
    else this.ctx.clock.clearTimeout(this.failing.get(path));
    this.failing.set(
      path,
      this.ctx.clock.setTimeout(() => this.enqueue(path), this.options.retryDelayMs ?? 2_000),
    );
  }

  private recovered(path: string): void {
    const timer = this.failing.get(path);
    if (timer === undefined) return;
    this.ctx.clock.clearTimeout(timer);
    this.failing.delete(path);
    this.ctx.logger.info('scan recovered', { path });
  }

  /** Paths that cannot be read right now (retried). */
  get failingPaths(): number {
    return this.failing.size;
  }

  private enqueueLater(path: string): void {
    this.schedule(path);
  }

  private scanDir(path: string, stat: FileStat, before: LocalRecord | undefined): void {
    const wasDir = isLive(before) && before.type === 'dir';
    if (wasDir && before.mode === stat.mode) return;
    this.publish(path, before, { type: 'dir', size: 0, mtimeMs: stat.mtimeMs, mode: stat.mode, hash: '', blocks: [] }, stat);
    // A directory moved in from elsewhere brings contents no watcher event announced. One a folder
    // walk has listed, that walk lists too (or has): walked here as well, every directory of a cold
    // start was listed twice, and each of its entries checked twice (~1 lstat more per file).
    if (!wasDir && !this.listedByFolderWalk(path)) void this.walk(path, new Set());
  }

  private listedByFolderWalk(path: string): boolean {
    for (const seen of this.folderWalks) if (seen.has(path)) return true;
    return false;
  }

  private async scanSymlink(path: string, stat: FileStat, before: LocalRecord | undefined): Promise<void> {
    const target = await this.ctx.fs.readlink(this.ctx.folder.abs(path));
    if (isLive(before) && before.type === 'symlink' && before.target === target) {
      if (!sameFingerprint(before.disk, stat)) this.ctx.index.updateFingerprint(path, fingerprint(stat));
      return;
    }
    this.publish(path, before, { type: 'symlink', size: 0, mtimeMs: stat.mtimeMs, mode: 0o777, hash: '', blocks: [], target }, stat);
  }

  /**
   * Peers hear of a file only once it is hashed, which takes seconds for a large one: that wait is
   * reported every `progressIntervalMs` once it has lasted that long, and once more when it is over.
   */
  private hashProgress(path: string, bytesTotal: number): (bytesDone: number) => void {
    const intervalMs = this.options.progressIntervalMs ?? 250;
    const startedAtMs = this.ctx.clock.now();
    let lastReportMs = startedAtMs;
    let reported = false;
    return (bytesDone) => {
      const now = this.ctx.clock.now();
      const due = bytesDone >= bytesTotal ? reported : now - lastReportMs >= intervalMs;
      if (!due) return;
      lastReportMs = now;
      reported = true;
      this.ctx.events.emit('hash-progress', { path, bytesDone, bytesTotal, startedAtMs });
    };
  }

  private async scanFile(path: string, stat: FileStat, before: LocalRecord | undefined): Promise<void> {
    const wasFile = isLive(before) && before.type === 'file';
    if (wasFile && isAsIndexed(before, stat)) return;
    const moved = wasFile ? null : await this.movedHere(path, stat);
    const digest = moved?.digest ?? (await hashFile(this.ctx.fs, this.ctx.folder.abs(path), stat.size, this.hashProgress(path, stat.size), this.options.hashBuffers));
    // The old path's delete is made durable now and announced with the new path (below), so a
    // peer sees both in one batch and can rename its copy instead of copying it.
    if (moved?.from) await this.syncNearestDir(moved.from.path);
    const after = await this.ctx.folder.stat(path);
    // Still being written (or replaced) while we hashed: wait for it to settle.
    if (!after || after.type !== 'file' || !sameFingerprint(fingerprint(stat), after) || digest.size !== stat.size) {
      this.enqueueLater(path);
      return;
    }
    // The engine or another scan changed the record meanwhile: decide again from scratch.
    if (!this.ctx.index.holds(path, before)) {
      this.enqueueLater(path);
      return;
    }
    // A new mtime on the same bytes (a touch, a save without edits) is a change, as rsync -t and
    // Syncthing see it: peers take the mtime, and their copies stay alike.
    if (wasFile && before.hash === digest.hash && before.mode === stat.mode && sameMtime(before.mtimeMs, stat.mtimeMs) && !(await this.movedOver(path, before, stat))) {
      this.ctx.index.updateFingerprint(path, fingerprint(stat));
      return;
    }
    this.publish(path, before, { type: 'file', size: stat.size, mtimeMs: stat.mtimeMs, mode: stat.mode, hash: digest.hash, blocks: digest.blocks }, stat);
    if (moved?.from && this.ctx.index.holds(moved.from.path, moved.from)) this.tombstone(moved.from);
  }

  /**
   * Whether the indexed bytes at `path` arrived under a new inode that another indexed file with
   * them had until it vanished: that file was moved over this one, and the user chose that content
   * just now. Kept as the old version instead, it could be one that lost a conflict (sim seed 72003:
   * a crash between keeping the loser as a conflict copy and pulling the winner, then the copy
   * renamed back over the original while the node was down), and the winner would be pulled over
   * it. Only a move from a vanished path counts: a restore or another mount gives every file a new
   * inode, and bumping every version then would raise conflicts for nothing.
   */
  private async movedOver(path: string, before: LocalRecord, stat: FileStat): Promise<boolean> {
    if (before.disk?.ino === stat.ino || before.blocks.length === 0) return false;
    for (const { path: otherPath } of this.ctx.index.blockLocations(before.blocks[0]!.hash)) {
      const other = this.ctx.index.get(otherPath);
      if (otherPath === path || !isLive(other) || other.type !== 'file' || other.hash !== before.hash || other.disk?.ino !== stat.ino) continue;
      const atOther = await this.ctx.fs.lstat(this.ctx.folder.abs(otherPath));
      if (atOther === null || atOther.ino !== stat.ino) return true;
    }
    // Its delete may have been scanned first.
    return this.recentlyDeletedSmall.get(stat.ino, this.ctx.clock.now()) === before.hash;
  }

  /**
   * A large file that appeared at a new path with the inode, size and mtime of an indexed file no
   * longer at its old path was moved here: its content is the indexed one (the same trust a
   * restart puts in an unchanged fingerprint), so it is not read and hashed again.
   */
  private async movedHere(path: string, stat: FileStat): Promise<{ digest: FileDigest; from: LocalRecord | null } | null> {
    // Smaller new files are hashed: cheap, and no index by inode to keep for them.
    if (stat.size < largeFileBytesMin) return null;
    for (const record of this.ctx.index.largeFilesWithInode(stat.ino)) {
      if (record.path === path || !sameFingerprint(record.disk, stat)) continue;
      const atOldPath = await this.ctx.folder.stat(record.path).catch(() => null);
      if (atOldPath && atOldPath.ino === stat.ino) return null; // a hard link, not a move
      const digest = { size: record.size, hash: record.hash, blocks: record.blocks };
      // Something new at the old path is that path's own change, scanned on its own.
      return { digest, from: atOldPath === null ? record : null };
    }
    const gone = this.recentlyDeleted.get(stat.ino, this.ctx.clock.now());
    if (!gone || !sameFingerprint(gone.disk, stat)) return null;
    this.recentlyDeleted.delete(stat.ino);
    return { digest: { size: gone.size, hash: gone.hash, blocks: gone.blocks }, from: null };
  }

  private rememberDeleted(record: LocalRecord): void {
    if (record.type !== 'file' || !record.disk) return;
    if (record.disk.size < largeFileBytesMin) {
      this.recentlyDeletedSmall.set(record.disk.ino, record.hash, 1, this.ctx.clock.now());
      return;
    }
    if (record.blocks.length > deletedBlocksMax) return;
    this.recentlyDeleted.set(record.disk.ino, record, record.blocks.length, this.ctx.clock.now());
  }

  private publish(
    path: string,
    before: LocalRecord | undefined,
    content: Pick<LocalRecord, 'type' | 'size' | 'mtimeMs' | 'mode' | 'hash' | 'blocks'> & { target?: string },
    stat: FileStat,
  ): void {
    const op: ChangeOp = isLive(before) ? 'change' : 'add';
    this.ctx.index.publish({
      path,
      ...content,
      deleted: false,
      version: before ? increment(before.version, this.ctx.nodeId) : this.firstVersion,
      modifiedBy: this.ctx.nodeId,
      disk: fingerprint(stat),
    });
    this.ctx.events.emit('local-change', { path, op, type: content.type });
  }

  private async recordDeletion(before: LocalRecord): Promise<void> {
    // A delete that a power loss could undo must not be announced: make it durable first.
    await this.syncNearestDir(before.path);
    if (!this.ctx.index.holds(before.path, before)) {
      this.enqueueLater(before.path);
      return;
    }
    // Children go first, so a peer never sees a directory deleted while it still lists live files.
    if (before.type === 'dir') {
      for (const child of this.ctx.index.descendants(before.path).sort((a, b) => b.path.length - a.path.length)) {
        if (!isLive(child)) continue;
        this.rememberDeleted(child);
        this.tombstone(child);
      }
    }
    this.rememberDeleted(before);
    this.tombstone(before);
  }

  private tombstone(before: LocalRecord): void {
    if (this.isHeld(before.path)) {
      // Under a directory whose delete is held, so held too, and by name: the puller leaves a held
      // path alone while it is gone (else it pulled, found the disk changed, asked for a scan that
      // recorded nothing, and pulled again, without end at one instant: sim seed 40110), and a
      // confirmation scans it again.
      this.held.add(before.path);
      return;
    }
    this.ctx.index.publish({
      path: before.path,
      type: before.type,
      size: 0,
      mtimeMs: this.ctx.clock.now(),
      mode: before.mode,
      hash: '',
      blocks: [],
      deleted: true,
      version: increment(before.version, this.ctx.nodeId),
      modifiedBy: this.ctx.nodeId,
      disk: undefined,
    });
    this.ctx.events.emit('local-change', { path: before.path, op: 'remove', type: before.type });
  }

  /** fsyncs the deleted path's parent, or the closest ancestor that still exists. */
  private async syncNearestDir(path: string): Promise<void> {
    for (let at = path.lastIndexOf('/'); ; at = path.lastIndexOf('/', at - 1)) {
      const dir = at > 0 ? this.ctx.folder.abs(path.slice(0, at)) : this.ctx.folder.root;
      try {
        await this.ctx.folder.syncDir(dir);
        return;
      } catch {
        if (at <= 0) return;
      }
    }
  }

  private isHeld(path: string): boolean {
    if (this.held.size === 0) return false;
    for (let at = path.length; at > 0; at = path.lastIndexOf('/', at - 1)) if (this.held.has(path.slice(0, at))) return true;
    return false;
  }

  private reportError(path: string, error: unknown): void {
    this.ctx.counters.errors++;
    this.ctx.events.emit('error', new SyncError('IO', `scanning ${path || '.'} failed: ${String(error)}`, { cause: error, path }));
  }
}

/** Same fingerprint and mode as the record: the file is unchanged and needs no reading. */
function isAsIndexed(before: LocalRecord, stat: FileStat): boolean {
  return sameFingerprint(before.disk, stat) && stat.mode === before.mode;
}
