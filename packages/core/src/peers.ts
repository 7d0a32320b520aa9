import { PUSHED_BLOCK_ID, recordBatches } from '@sync/protocol';
import type { BlockFrame, FileRecord, IndexMessage, IndexUpdateMessage, RequestMessage } from '@sync/protocol';
import type { AppMessage, Connection } from '@sync/transport';
import type { EngineContext } from './context';
import type { StoredRecord } from './record';
import { isLive } from './record';
import { RemoteRecords } from './remote-records';
import type { PeerIndexHeader } from './peer-index-file';
import { fileHashOf } from './hashing';
import { SyncError } from './errors';
import { PushedBlocks } from './pushed-blocks';
import { PushLedger } from './push-ledger';
import { ByteBudget } from './byte-budget';

/** Announcements to peers start at most this often while changes keep coming. */
const flushIntervalMinMs = 10;

/** A push the peer has not confirmed in this long no longer holds back further pushes. */
const pushConfirmMs = 10_000;

/** What a peer has told us it holds. Kept after a disconnect so a reconnect asks only for the rest. */
interface RemoteIndex {
  indexId: string | null;
  maxSequence: number;
  records: RemoteRecords;
  /** Whether the peer's saved index holds just these records (restored, and nothing received since). */
  saved: boolean;
}

interface PendingRequest {
  resolve: (data: Uint8Array) => void;
  reject: (error: SyncError) => void;
  /** When it times out, on `ctx.clock`. */
  deadlineMs: number;
  path: string;
}

interface Link {
  connection: Connection;
  connectedAtMs: number;
  /** Our sequence the peer has been sent up to; null until it asked (index-request). */
  sentUpTo: number | null;
  catchUpSent: boolean;
  flushing: boolean;
  flushAgain: boolean;
  pending: Map<number, PendingRequest>;
  serving: number;
  /** Bytes of blocks served to this peer and not yet written out to its socket. */
  unwritten: ByteBudget;
  pushes: PushLedger;
}

export interface PeerSource {
  peerId: string;
  record: FileRecord;
}

export interface PeersOptions {
  requestTimeoutMs: number;
  servedRequestsMax: number;
  /**
   * Bytes of blocks read for one peer and not yet written out to its socket. The peer asks for its
   * whole window at once (8 MiB a file); without this, each peer's window was read into memory
   * and sat in the socket's queue.
   */
  servedBytesInFlightMax: number;
  /** Records one peer may make us hold; a peer that sends more is disconnected (memory stays bounded). */
  peerRecordsMax: number;
  onRecords(paths: string[], peerId: string): void;
  onConnected(peerId: string): void;
  serveBlock(request: RequestMessage): Promise<Uint8Array | { code: 'NOT_FOUND' | 'CHANGED' | 'IO'; message: string }>;
  /**
   * Told when nothing uses a block's buffer any more (the transport wrote out a block
   * `serveBlock` returned, or the puller wrote a received one to its file): it may be reused.
   */
  releaseBlock?(data: Uint8Array): void;
  /** Files of this node up to this size are pushed with their announcement (0: never). */
  pushFileBytesMax: number;
  /** Bytes of pushed blocks a peer keeps for its puller, and so pushed to a peer ahead of its confirmations at most. */
  pushBatchBytesMax: number;
  /**
   * Reads the index of a peer saved at our last stop into `into` (`RemoteRecords.restore` for each
   * record); null when none was saved. Asked once per run, when the peer first connects.
   */
  restoreIndex?(peerId: string, into: RemoteRecords): Promise<PeerIndexHeader | null>;
}

/** Index exchange and block requests with every connected peer. */
export class Peers {
  private readonly remotes = new Map<string, RemoteIndex>();
  /** Saved indexes being read, by peer; each hears of our changes as `remotes` do. */
  private readonly restoring = new Map<string, { records: RemoteRecords; done: Promise<void> }>();
  private readonly restoreTried = new Set<string>();
  private readonly links = new Map<string, Link>();
  private nextRequestId = 1;
  private flushScheduled = false;
  private lastFlushAtMs = -Infinity;
  private readonly pushed: PushedBlocks;
  // One timer for every request's time-out, not one per request: a node pulling 100,000 small
  // files made a timer, its closure and its async resource per block, ~20 MB that outlived the
  // young generation. A link's requests time out in the order they were made.
  private timeoutTimer: unknown = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly options: PeersOptions,
  ) {
    ctx.index.onChange(() => this.scheduleFlush());
    ctx.index.onReplace((previous) => {
      for (const remote of this.remotes.values()) remote.records.localReplaced(previous);
      for (const { records } of this.restoring.values()) records.localReplaced(previous);
    });
    this.pushed = new PushedBlocks(options.pushBatchBytesMax);
  }

  /** Hands back a received block's buffer once it is written: nothing may use it afterwards. */
  recycle(data: Uint8Array): void {
    this.options.releaseBlock?.(data);
  }

  /** A verified block a peer pushed, if one with this hash is still held (it is handed out once). */
  takePushed(hash: string): Uint8Array | undefined {
    return this.pushed.take(hash);
  }

  connected(): { nodeId: string; address: string; direction: 'inbound' | 'outbound'; connectedAtMs: number; indexSequence: number }[] {
    return [...this.links.values()].map((link) => ({
      nodeId: link.connection.peerId,
      address: link.connection.remoteAddress,
      direction: link.connection.direction,
      connectedAtMs: link.connectedAtMs,
      indexSequence: this.remotes.get(link.connection.peerId)?.maxSequence ?? 0,
    }));
  }

  /** Every path some peer has a record for. */
  remotePaths(): Set<string> {
    const paths = new Set<string>();
    for (const remote of this.remotes.values()) for (const path of remote.records.keys()) paths.add(path);
    return paths;
  }

  /**
   * What we hold of each peer's index that its saved index does not, to be saved at a stop: a
   * restart that restores it asks each peer only for what is newer, instead of its whole index.
   * `records` builds the list (one stored record per entry) when called, one peer at a time.
   */
  unsavedIndexes(): { header: PeerIndexHeader; records: () => StoredRecord[] }[] {
    const unsaved: { header: PeerIndexHeader; records: () => StoredRecord[] }[] = [];
    for (const [peerId, remote] of this.remotes) {
      if (remote.indexId === null || remote.saved) continue;
      unsaved.push({ header: { peerId, indexId: remote.indexId, maxSequence: remote.maxSequence }, records: () => remote.records.stored() });
    }
    return unsaved;
  }

  /** Our record for a path changed to one peers may already hold (a pull adopted it): store theirs compactly. */
  localAdopted(path: string): void {
    const local = this.ctx.index.stored(path);
    if (local) for (const remote of this.remotes.values()) remote.records.matchLocal(path, local);
  }

  isConnected(peerId: string): boolean {
    return this.links.has(peerId);
  }

  /** Whether some peer, connected or not, has a record for a path. */
  hasRecordFor(path: string): boolean {
    for (const remote of this.remotes.values()) if (remote.records.has(path)) return true;
    return false;
  }

  /** Every peer's record for a path, connected or not, in a stable order. */
  recordsFor(path: string): PeerSource[] {
    const result: PeerSource[] = [];
    for (const [peerId, remote] of this.remotes) {
      const record = remote.records.get(path);
      if (record) result.push({ peerId, record });
    }
    return result.sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0));
  }

  /** Connected peers that hold this exact content at this path. */
  sourcesFor(path: string, hash: string): string[] {
    return this.recordsFor(path)
      .filter(({ peerId, record }) => this.links.has(peerId) && !record.deleted && record.type === 'file' && record.hash === hash)
      .map(({ peerId }) => peerId);
  }

  handleConnection(connection: Connection): void {
    const previous = this.links.get(connection.peerId);
    if (previous) this.dropLink(previous, 'replaced by a new connection');
    const link: Link = {
      connection,
      connectedAtMs: this.ctx.clock.now(),
      sentUpTo: null,
      catchUpSent: false,
      flushing: false,
      flushAgain: false,
      pending: new Map(),
      serving: 0,
      unwritten: new ByteBudget(this.options.servedBytesInFlightMax),
      pushes: new PushLedger(this.options.pushBatchBytesMax, pushConfirmMs),
    };
    this.links.set(connection.peerId, link);
    void this.askForIndex(link);
    this.options.onConnected(connection.peerId);
  }

  /**
   * Asks a peer for the records it has that we have not seen. The first time the peer connects in
   * this run, what we held of its index at our last stop is restored first: the request then names
   * that index and how far it went, and the peer sends only what is newer (or, if its index started
   * over, all of it).
   */
  private async askForIndex(link: Link): Promise<void> {
    const peerId = link.connection.peerId;
    await this.restoreSaved(peerId);
    if (this.links.get(peerId) !== link) return;
    const remote = this.remote(peerId);
    this.send(link, { type: 'index-request', indexId: remote.indexId, since: remote.maxSequence });
  }

  private restoreSaved(peerId: string): Promise<void> {
    const running = this.restoring.get(peerId);
    if (running) return running.done;
    if (!this.options.restoreIndex || this.remotes.has(peerId) || this.restoreTried.has(peerId)) return Promise.resolve();
    this.restoreTried.add(peerId);
    const records = new RemoteRecords((path) => this.ctx.index.stored(path));
    const done = this.options
      .restoreIndex(peerId, records)
      .then(
        (header) => {
          if (!header || this.remotes.has(peerId) || records.size > this.options.peerRecordsMax) return;
          this.remotes.set(peerId, { indexId: header.indexId, maxSequence: header.maxSequence, records, saved: true });
          this.ctx.logger.debug('saved index of a peer restored', { peer: peerId, records: records.size, maxSequence: header.maxSequence });
          // Planned again, so that a pull left unfinished at the stop resumes; a record equal to
          // ours offers nothing to pull (the rest of a whole index's planning pass).
          const differing = records.differingFromLocal();
          if (differing.length > 0) this.options.onRecords(differing, peerId);
        },
        (error: unknown) => {
          this.ctx.logger.warn('saved index of a peer not used; asking it for its whole index', { peer: peerId, error: error instanceof Error ? error.message : String(error) });
        },
      )
      .finally(() => this.restoring.delete(peerId));
    this.restoring.set(peerId, { records, done });
    return done;
  }

  handleDisconnect(connection: Connection): void {
    const link = this.links.get(connection.peerId);
    if (link && link.connection === connection) this.dropLink(link, 'peer disconnected');
  }

  handleMessage(connection: Connection, message: AppMessage): void {
    const link = this.links.get(connection.peerId);
    if (!link || link.connection !== connection) return;
    switch (message.type) {
      case 'index-request':
        link.sentUpTo = message.indexId === this.ctx.index.indexId ? Math.min(message.since, this.ctx.index.sequence) : 0;
        link.catchUpSent = false;
        void this.flush(link);
        return;
      case 'index':
      case 'index-update':
        this.receiveRecords(link, message);
        return;
      case 'request':
        void this.serve(link, message);
        return;
      case 'error': {
        const pending = link.pending.get(message.id);
        if (!pending) return;
        this.settle(link, message.id);
        pending.reject(new SyncError('PEER_ERROR', `${connection.peerId} answered ${message.code}${message.message ? `: ${message.message}` : ''}`));
        return;
      }
      case 'close':
        return;
    }
  }

  handleBlock(connection: Connection, frame: BlockFrame): void {
    const link = this.links.get(connection.peerId);
    if (link && frame.id === PUSHED_BLOCK_ID) {
      this.ctx.counters.bytesReceived += frame.data.byteLength;
      this.pushed.add(frame.data);
      return;
    }
    const pending = link?.pending.get(frame.id);
    if (!link || !pending) return;
    this.settle(link, frame.id);
    this.ctx.counters.bytesReceived += frame.data.byteLength;
    pending.resolve(frame.data);
  }

  /** Asks one peer for one block; rejects on error, disconnect or time-out. */
  request(peerId: string, path: string, block: { offset: number; size: number; hash: string }): Promise<Uint8Array> {
    const link = this.links.get(peerId);
    if (!link) return Promise.reject(new SyncError('NO_SOURCE', `${peerId} is not connected`, { path }));
    const id = this.nextRequestId;
    this.nextRequestId = (this.nextRequestId % 0xffff_fffe) + 1;
    return new Promise<Uint8Array>((resolve, reject) => {
      link.pending.set(id, { resolve, reject, deadlineMs: this.ctx.clock.now() + this.options.requestTimeoutMs, path });
      this.armTimeouts();
      this.ctx.counters.blocksRequested++;
      this.send(link, { type: 'request', id, path, hash: block.hash, offset: block.offset, size: block.size });
    });
  }

  close(): void {
    for (const link of [...this.links.values()]) this.dropLink(link, 'stopping');
    if (this.timeoutTimer !== null) this.ctx.clock.clearTimeout(this.timeoutTimer);
    this.timeoutTimer = null;
  }

  private remote(peerId: string): RemoteIndex {
    let remote = this.remotes.get(peerId);
    if (!remote) this.remotes.set(peerId, (remote = { indexId: null, maxSequence: 0, records: new RemoteRecords((path) => this.ctx.index.stored(path)), saved: false }));
    return remote;
  }

  private receiveRecords(link: Link, message: IndexMessage | IndexUpdateMessage): void {
    const peerId = link.connection.peerId;
    // All or nothing: one forbidden path condemns the batch and the connection.
    const forbidden = message.records.find((record) => this.ctx.folder.isForbidden(record.path));
    if (forbidden) {
      link.connection.close(`forbidden path in index: ${JSON.stringify(forbidden.path.slice(0, 100))}`);
      this.ctx.events.emit('error', new SyncError('PEER_ERROR', `${peerId} sent a record for a forbidden path`, { path: forbidden.path }));
      return;
    }
    // A live file whose hash is not the one its blocks make could never be assembled: a bad peer.
    const inconsistent = message.records.find((record) => isLive(record) && record.type === 'file' && record.hash !== fileHashOf(record.blocks));
    if (inconsistent) {
      link.connection.close(`record hash does not match its blocks: ${JSON.stringify(inconsistent.path.slice(0, 100))}`);
      this.ctx.events.emit('error', new SyncError('PEER_ERROR', `${peerId} sent a record whose hash does not match its blocks`, { path: inconsistent.path }));
      return;
    }
    const remote = this.remote(peerId);
    // A catch-up with nothing newer is one empty batch: the saved index still holds.
    if (message.records.length > 0 || remote.indexId !== message.indexId) remote.saved = false;
    if (remote.indexId !== message.indexId) {
      // The peer's index restarted (its state was wiped): what it said before no longer holds.
      remote.indexId = message.indexId;
      remote.maxSequence = 0;
      remote.records.clear();
    }
    const added = message.records.filter((record) => !remote.records.has(record.path)).length;
    if (remote.records.size + added > this.options.peerRecordsMax) {
      link.connection.close(`index over the limit of ${this.options.peerRecordsMax} records`);
      this.ctx.events.emit('error', new SyncError('PEER_ERROR', `${peerId} sent more than ${this.options.peerRecordsMax} records`));
      return;
    }
    this.ctx.counters.recordsReceived += message.records.length;
    const paths: string[] = [];
    for (const received of message.records) {
      if (isLive(received) && received.type === 'file') link.pushes.confirmed(received.hash);
      remote.records.set(received, this.ctx.index.stored(received.path));
      if (received.sequence > remote.maxSequence) remote.maxSequence = received.sequence;
      paths.push(received.path);
    }
    if (paths.length) this.options.onRecords(paths, peerId);
  }

  private async serve(link: Link, request: RequestMessage): Promise<void> {
    if (link.serving >= this.options.servedRequestsMax) {
      this.send(link, { type: 'error', id: request.id, code: 'BUSY', message: 'too many requests in flight' });
      return;
    }
    link.serving++;
    let handedOver = false;
    try {
      // Requests beyond the window wait here as requests, not as blocks read into memory.
      await link.unwritten.acquire(request.size);
      const result = await this.options.serveBlock(request);
      if (result instanceof Uint8Array) {
        this.ctx.counters.bytesSent += result.byteLength;
        handedOver = true;
        await link.connection.sendBlock(request.id, result, () => {
          this.options.releaseBlock?.(result);
          link.unwritten.release(request.size);
        });
      } else {
        await link.connection.send({ type: 'error', id: request.id, code: result.code, message: result.message });
      }
    } catch {
      // The connection closed while we answered; the peer asks again elsewhere.
    } finally {
      if (!handedOver) link.unwritten.release(request.size);
      link.serving--;
    }
  }

  /**
   * Announces soon after a change: at once after a quiet spell, else at most once per
   * `flushIntervalMinMs`, so a burst of thousands of changes (each file a puller writes is one)
   * goes out in a few large batches, each after one journal fsync, instead of one per change.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = (): void => {
      this.flushScheduled = false;
      this.lastFlushAtMs = this.ctx.clock.now();
      for (const link of this.links.values()) void this.flush(link);
    };
    // Clamped: a wall clock stepped back must not hold announcements for as long as it jumped.
    const waitMs = Math.min(flushIntervalMinMs, this.lastFlushAtMs + flushIntervalMinMs - this.ctx.clock.now());
    if (waitMs <= 0) setImmediate(run);
    else this.ctx.clock.setTimeout(run, waitMs);
  }

  /** Sends the peer every record it has not seen yet, in sequence order, one flush at a time. */
  private async flush(link: Link): Promise<void> {
    if (link.sentUpTo === null) return;
    if (link.flushing) {
      link.flushAgain = true;
      return;
    }
    link.flushing = true;
    try {
      do {
        link.flushAgain = false;
        const from: number = link.sentUpTo ?? 0;
        // Records reach the journal before any peer hears of them, so they are taken before the
        // journal's sync, which covers what was appended when it was called. Taken after it, they
        // included records published while it waited, announced before they were written: a crash
        // then could reuse their sequence numbers for other records, which the peer would skip.
        const records = this.ctx.index.since(from);
        await this.ctx.journalFlush();
        const upTo: number = records.length ? records[records.length - 1]!.sequence : from;
        // One batch built at a time: built up front, a whole index of 100,000 records was every
        // batch plus a JSON string and a byte array per record, all alive until the last send.
        if (!link.catchUpSent) {
          const batches = recordBatches(wireRecords(records));
          // The last batch carries `done`, so each goes out once the one after it is known; with
          // nothing to send, one empty batch still says done.
          let next = batches.next();
          do {
            const batch = next.done ? [] : next.value;
            next = batches.next();
            await link.connection.send({ type: 'index', indexId: this.ctx.index.indexId, records: batch, done: next.done === true });
          } while (!next.done);
          link.catchUpSent = true;
        } else {
          // The first batch is small, so a burst's first files reach the peer without waiting
          // for a thousand files to be read and pushed ahead of their announcement.
          for (const batch of updateBatches(records)) {
            await this.push(link, batch);
            await link.connection.send({ type: 'index-update', indexId: this.ctx.index.indexId, records: batch });
          }
        }
        link.sentUpTo = upTo;
      } while (link.flushAgain && !link.connection.closed);
    } catch {
      // Closed mid-flush: the next connection starts from what the peer acknowledges.
    } finally {
      link.flushing = false;
    }
  }

  /**
   * Sends the bytes of this node's own small new files ahead of their announcement, so the peer
   * needs no request round trip for them. Only live changes are pushed (a catch-up goes to a peer
   * that may hold most files already), and only what this node wrote (relays do not push). No
   * more than the peer has room for ahead of its puller: the rest it requests as usual.
   */
  private async push(link: Link, batch: readonly FileRecord[]): Promise<void> {
    if (this.options.pushFileBytesMax === 0) return;
    let budget = link.pushes.room(this.ctx.clock.now());
    const sends: Promise<void>[] = [];
    for (const record of batch) {
      if (!isLive(record) || record.type !== 'file' || record.modifiedBy !== this.ctx.nodeId) continue;
      if (record.size === 0 || record.size > this.options.pushFileBytesMax || record.size > budget) continue;
      const block = record.blocks[0]!;
      // Bytes held elsewhere too (a rename, a copy): the peer can most likely copy them locally.
      if (this.ctx.index.blockLocations(block.hash).length > 1) continue;
      const data = await this.options.serveBlock({ type: 'request', id: PUSHED_BLOCK_ID, path: record.path, hash: block.hash, offset: 0, size: block.size });
      if (!(data instanceof Uint8Array)) continue;
      budget -= data.byteLength;
      link.pushes.pushed(record.hash, data.byteLength, this.ctx.clock.now());
      this.ctx.counters.bytesSent += data.byteLength;
      sends.push(link.connection.sendBlock(PUSHED_BLOCK_ID, data, () => this.options.releaseBlock?.(data)));
    }
    await Promise.all(sends);
  }

  private send(link: Link, message: AppMessage): void {
    link.connection.send(message).catch(() => {
      // A closed connection is reported through the disconnect event.
    });
  }

  private settle(link: Link, id: number): void {
    link.pending.delete(id);
  }

  /** Arms the time-out timer for the earliest deadline, if any request is pending and none is armed. */
  private armTimeouts(): void {
    if (this.timeoutTimer !== null) return;
    let earliest = Infinity;
    for (const link of this.links.values()) {
      for (const pending of link.pending.values()) {
        earliest = Math.min(earliest, pending.deadlineMs);
        break;
      }
    }
    if (earliest === Infinity) return;
    // Clamped: a wall clock stepped back must not hold a time-out for as long as it jumped.
    const waitMs = Math.max(0, Math.min(this.options.requestTimeoutMs, earliest - this.ctx.clock.now()));
    this.timeoutTimer = this.ctx.clock.setTimeout(() => {
      this.timeoutTimer = null;
      this.expireRequests();
      this.armTimeouts();
    }, waitMs);
  }

  private expireRequests(): void {
    const now = this.ctx.clock.now();
    for (const link of this.links.values()) {
      for (const [id, pending] of link.pending) {
        // A deadline further off than a whole time-out means the clock was stepped back. (Stepped
        // forward, it fails what is pending early: the puller asks again, as after any failure.)
        if (pending.deadlineMs - now > this.options.requestTimeoutMs) pending.deadlineMs = now + this.options.requestTimeoutMs;
        if (pending.deadlineMs > now) break;
        link.pending.delete(id);
        pending.reject(new SyncError('PEER_ERROR', `${link.connection.peerId} did not answer a block request in time`, { path: pending.path }));
      }
    }
  }

  private dropLink(link: Link, reason: string): void {
    this.links.delete(link.connection.peerId);
    for (const [id, pending] of [...link.pending]) {
      this.settle(link, id);
      pending.reject(new SyncError('PEER_ERROR', `${link.connection.peerId}: ${reason}`));
    }
  }
}

function* wireRecords(records: readonly StoredRecord[]): Generator<FileRecord, void, undefined> {
  for (const record of records) yield record.toLocal(record.sequence, false);
}

/** Records in an announcement that starts a flush, at most: its pushes are read before it goes out. */
export const firstUpdateRecordsMax = 64;

function* updateBatches(records: readonly StoredRecord[]): Generator<FileRecord[], void, undefined> {
  yield* recordBatches(wireRecords(records.slice(0, firstUpdateRecordsMax)));
  yield* recordBatches(wireRecords(records.slice(firstUpdateRecordsMax)));
}
