import { X509Certificate } from 'node:crypto';
import { resolve as resolvePath, join } from 'node:path';
import { conflictPolicies } from '@sync/conflict';
import type { ConflictPolicy } from '@sync/conflict';
import { blockSizeFor } from '@sync/protocol';
import type { RequestMessage } from '@sync/protocol';
import { IgnoreRules, createWatcher, defaultIgnoreFileName } from '@sync/watcher';
import type { Watcher, WatchEvent } from '@sync/watcher';
import { WsTransport } from '@sync/transport';
import type { Transport } from '@sync/transport';
import type { Clock, FileSystem, Logger, Random } from './ports';
import { silentLogger } from './ports';
import { NodeFileSystem } from './node-file-system';
import { systemClock, systemRandom } from './system';
import { SyncError, isSyncError } from './errors';
import { Emitter } from './emitter';
import type { SyncEvents } from './events';
import type { Counters, EngineContext } from './context';
import { Folder } from './folder';
import { IndexJournal } from './journal';
import { LocalIndex } from './local-index';
import { Scanner } from './scanner';
import { Peers } from './peers';
import { Puller } from './puller';
import { Versions } from './versions';
import { isLive, sameFingerprint } from './record';
import { loadIndexId, loadNodeId, prepareStateDir } from './state-dir';
import { readFull } from './hashing';
import { BlockPool } from './block-pool';
import { BusyPaths } from './busy-paths';
import { loadPeerIndex, savePeerIndex } from './peer-index-file';

export interface EngineLimits {
  quietPeriodMs: number;
  scansInFlightMax: number;
  /**
   * Paths one pull pass applies at once. A small file's commit is mostly waiting for its fsyncs,
   * and a journaling filesystem commits the fsyncs that wait together in one go: more in flight,
   * fewer commits per file.
   */
  transfersInFlightMax: number;
  blocksInFlightMax: number;
  /** Block bytes one file may have requested at once (fewer, larger blocks for large files). */
  fileBytesInFlightMax: number;
  bytesInFlightMax: number;
  requestTimeoutMs: number;
  servedRequestsMax: number;
  /** Bytes of blocks read for one peer and not yet written out to it. */
  servedBytesInFlightMax: number;
  /** Records one peer may make this node hold. */
  peerRecordsMax: number;
  /** This node's new files up to this size go to peers with their announcement (0: never). */
  pushFileBytesMax: number;
  /** Pushed bytes a receiver holds for its puller, and so pushed bytes a peer may hold unconfirmed. */
  pushBatchBytesMax: number;
  /** Before a failed scan or pull is tried again; pull retries double while nothing is pulled, up to a minute. */
  retryDelayMs: number;
  progressIntervalMs: number;
  /**
   * A pulled file's written bytes are synced in the background every this many (0: only once it
   * is complete), so its final fsync does not start the disk on the whole file at once: the
   * kernel's own writeback waits for a tenth of memory to be dirty.
   */
  writebackBytes: number;
  journalSyncIntervalMs: number;
  versionsRetentionMs: number;
  /** Bytes the kept versions may take; the oldest are removed first. */
  versionsBytesMax: number;
  /** A start-up scan that finds more than this share of files gone holds the deletes until confirmed. */
  massDeleteShareMax: number;
  /** …when at least this many files are gone (small folders are left alone). */
  massDeleteFilesMin: number;
  /**
   * The whole folder is walked again this often (0: never), to find what the watcher missed: an
   * inotify queue overflow (dropped silently), a directory it could not watch, a network mount.
   */
  rescanIntervalMs: number;
}

export const defaultEngineLimits: Readonly<EngineLimits> = Object.freeze({
  quietPeriodMs: 10,
  scansInFlightMax: 4,
  // 10,000 files of 4 KiB, two daemons by hand on a journaled ext4: 16 took 5.7 s, 64 4.0 s,
  // 128 to 512 3.4–3.6 s, 1,024 4.0–4.9 s.
  transfersInFlightMax: 256,
  blocksInFlightMax: 64,
  fileBytesInFlightMax: 8 * 1024 * 1024,
  // At the smallest block size (128 KiB) this is 192 requests, plus one short last block per
  // transfer: under the 256 a peer serves at once (servedRequestsMax) before answering BUSY.
  bytesInFlightMax: 24 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  servedRequestsMax: 256,
  // Per peer. Its whole window read at once sat in the socket's queue: a node serving 1 GiB to two
  // peers peaked at 97–99 MiB, with 2 MiB at 86–87 MiB in the same time (1 MiB: 84–85 MiB, slower).
  servedBytesInFlightMax: 2 * 1024 * 1024,
  peerRecordsMax: 1_000_000,
  pushFileBytesMax: 64 * 1024,
  pushBatchBytesMax: 8 * 1024 * 1024,
  retryDelayMs: 2_000,
  progressIntervalMs: 250,
  // 1 GiB A→B, two daemons by hand, 3 runs each, alternating: 2.24–2.35 s without, 2.02–2.09 s at
  // 64 MiB, 1.94–2.00 s at 16 MiB; on a journaled ext4 3.37–3.86 s without, 1.80–3.09 s at 16 MiB.
  writebackBytes: 16 * 1024 * 1024,
  journalSyncIntervalMs: 1_000,
  versionsRetentionMs: 7 * 24 * 3600_000,
  versionsBytesMax: 10 * 1024 ** 3,
  massDeleteShareMax: 0.5,
  massDeleteFilesMin: 10,
  // Syncthing's full rescan interval with a watcher; an unchanged file costs one lstat.
  rescanIntervalMs: 3600_000,
});

/** Kept versions are pruned at start and then this often. */
const versionsPruneIntervalMs = 3600_000;
/**
 * Block buffers kept for reuse (served and received ones): two receivers' windows of one file
 * (8 MiB each). At 8 MiB, a node serving 1 GiB to two peers at once dropped what the pool could
 * not keep and allocated afresh, and peaked at 127–138 MiB; at 16 MiB, 107 MiB (receivers the
 * same, 80–82 MiB).
 */
const blockPoolBytesMax = 16 * 1024 * 1024;

export interface WatcherFactoryOptions {
  root: string;
  ignoredPaths: string[];
  pollIntervalMs: number | false;
}

export interface SyncNodeOptions {
  /** The synced folder; created if missing. */
  dir: string;
  /** Default `<dir>/.sync`. */
  stateDir?: string;
  /** Default: persisted in the state dir, generated once. */
  nodeId?: string;
  /** Where peers reach this node; null or absent: no listener (dial only). */
  listen?: { host: string; port: number } | null;
  /** ws:// or wss:// URLs of peers to keep connected. */
  peers?: string[];
  /** Cluster secret; '' runs without one (trusted networks only). */
  secret: string;
  /** wss://: this node's PEM certificate and key, and the certificate fingerprints its peers must present. */
  tls?: { cert?: string; key?: string; pins?: readonly string[] };
  conflictPolicy?: ConflictPolicy;
  /** false (default): filesystem events; a number: poll at that interval. */
  pollIntervalMs?: number | false;
  quietPeriodMs?: number;
  logger?: Logger;
  limits?: Partial<EngineLimits>;
  software?: string;
  fileSystem?: FileSystem;
  clock?: Clock;
  random?: Random;
  createTransport?: (nodeId: string) => Transport;
  createWatcher?: (options: WatcherFactoryOptions) => Watcher;
}

export interface PeerStatus {
  nodeId: string;
  address: string;
  direction: 'inbound' | 'outbound';
  connectedAtMs: number;
  /** How far this node has the peer's index: equal to the peer's own `sequence` once caught up. */
  indexSequence: number;
}

export interface SyncStatus extends Counters {
  nodeId: string;
  dir: string;
  stateDir: string;
  state: 'stopped' | 'starting' | 'scanning' | 'idle' | 'syncing';
  listening: { host: string; port: number } | null;
  peers: PeerStatus[];
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
  transfersInFlight: number;
  pendingPaths: number;
  sequence: number;
  indexId: string;
  /** Paths that could not be read at the last attempt (permission denied, locked…); retried. */
  failingPaths: number;
  /** SHA-256 fingerprint of this node's TLS certificate (what peers pin); null without TLS. */
  tlsFingerprint: string | null;
  /** Deletes found at start-up or by a rescan but held back (unmounted volume, mass delete) until `confirmDeletes()`. */
  heldDeletes: { count: number; reason: string } | null;
}

export interface SyncNode {
  readonly nodeId: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): SyncStatus;
  address(): { host: string; port: number } | null;
  /** Keeps a connection to one more peer URL (reconnecting as needed). */
  addPeer(url: string): void;
  on<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): () => void;
  /** Resolves when no scan or pull is pending (for tests and tools). */
  whenIdle(): Promise<void>;
  /** Publishes deletes that were held at start-up or by a rescan; returns how many. */
  confirmDeletes(): Promise<number>;
  /**
   * Walks the whole folder now, as the periodic rescan does (`limits.rescanIntervalMs`), and
   * resolves once what it found is indexed. Does nothing on a node that is not running.
   */
  rescan(): Promise<void>;
}

export function createSyncNode(options: SyncNodeOptions): SyncNode {
  return new Engine(options);
}

interface Running {
  ctx: EngineContext;
  journal: IndexJournal;
  scanner: Scanner;
  puller: Puller;
  peers: Peers;
  versions: Versions;
  watcher: Watcher;
  transport: Transport;
  timers: unknown[];
  unsubscribe: (() => void)[];
}

class Engine implements SyncNode {
  private readonly dir: string;
  private readonly stateDir: string;
  private readonly limits: EngineLimits;
  private readonly fs: FileSystem;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly events: Emitter<SyncEvents>;
  private readonly counters: Counters = { bytesReceived: 0, bytesSent: 0, bytesReused: 0, blocksRequested: 0, recordsReceived: 0, filesSynced: 0, conflicts: 0, errors: 0 };
  private state: SyncStatus['state'] = 'stopped';
  private running: Running | null = null;
  private listening: { host: string; port: number } | null = null;
  private id: string | undefined;
  private stopping: Promise<void> | null = null;
  private tlsFingerprint: string | null | undefined;

  constructor(private readonly options: SyncNodeOptions) {
    if (!options.dir) throw new SyncError('INVALID_OPTIONS', 'dir is required');
    if (typeof options.secret !== 'string') throw new SyncError('INVALID_OPTIONS', "secret is required ('' for none)");
    if (options.conflictPolicy && !conflictPolicies.includes(options.conflictPolicy)) {
      throw new SyncError('INVALID_OPTIONS', `conflict policy must be one of ${conflictPolicies.join(', ')}`);
    }
    this.dir = resolvePath(options.dir);
    this.stateDir = resolvePath(options.stateDir ?? join(this.dir, '.sync'));
    this.limits = { ...defaultEngineLimits, ...options.limits, ...(options.quietPeriodMs !== undefined ? { quietPeriodMs: options.quietPeriodMs } : {}) };
    this.fs = options.fileSystem ?? new NodeFileSystem();
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.logger = options.logger ?? silentLogger;
    this.events = new Emitter<SyncEvents>((error) => this.logger.error('an event listener threw', { error: String(error) }));
    this.id = options.nodeId;
  }

  get nodeId(): string {
    if (this.id === undefined) throw new SyncError('INVALID_OPTIONS', 'the node id is known once start() has run');
    return this.id;
  }

  on<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  address(): { host: string; port: number } | null {
    return this.listening;
  }

  addPeer(url: string): void {
    if (!this.running) throw new SyncError('INVALID_OPTIONS', 'addPeer needs a started node');
    this.running.transport.dial(url);
  }

  async start(): Promise<void> {
    if (this.running || this.state !== 'stopped') throw new SyncError('INVALID_OPTIONS', 'already started');
    this.state = 'starting';
    try {
      await this.fs.mkdir(this.dir).catch(async (error: unknown) => {
        const stat = await this.fs.lstat(this.dir);
        if (!stat || stat.type !== 'dir') throw error;
      });
      await prepareStateDir(this.fs, this.stateDir);
      const nodeId = await loadNodeId(this.fs, this.stateDir, this.options.nodeId, this.random);
      this.id = nodeId;
      const { journal, records } = await IndexJournal.open(this.fs, this.stateDir);
      const indexId = await loadIndexId(this.fs, this.stateDir, records.size === 0, this.random);
      const folder = new Folder(this.fs, this.dir, this.stateDir);
      const ignoreRules = await this.loadIgnoreRules();
      const ctx: EngineContext = {
        nodeId,
        fs: this.fs,
        folder,
        index: new LocalIndex(records, journal, indexId),
        clock: this.clock,
        random: this.random,
        logger: this.logger,
        events: this.events,
        conflictPolicy: this.options.conflictPolicy ?? 'keep-both',
        counters: this.counters,
        busy: new BusyPaths(),
        ignoreRules,
        // fsync, not just write: a record peers heard of and a power loss then took away would let
        // this node reuse its version counter, and peers would take the new content for an old one.
        journalFlush: () => journal.sync(),
        isIgnored: (path, isDirectory) => ctx.ignoreRules.isIgnored(path, isDirectory),
      };
      this.running = this.compose(ctx, journal);
      await this.run(this.running);
    } catch (error) {
      this.state = 'stopped';
      await this.teardown().catch(() => {});
      throw isSyncError(error) ? error : new SyncError('IO', `start failed: ${String(error)}`, { cause: error });
    }
  }

  private compose(ctx: EngineContext, journal: IndexJournal): Running {
    const versions = new Versions(ctx, { retentionMs: this.limits.versionsRetentionMs, bytesMax: this.limits.versionsBytesMax });
    let puller: Puller | null = null;
    let peers: Peers | null = null;
    const blockPool = new BlockPool(blockPoolBytesMax);
    const scanner = new Scanner(ctx, {
      hashBuffers: blockPool,
      holdDeletes: (vanished, live) => this.holdDeletesReason(vanished.length, live),
      retryDelayMs: this.limits.retryDelayMs,
      quietPeriodMs: this.limits.quietPeriodMs,
      progressIntervalMs: this.limits.progressIntervalMs,
      scansInFlightMax: this.limits.scansInFlightMax,
      onScanned: (path) => {
        if (peers?.hasRecordFor(path)) puller?.scanned(path);
      },
    });
    peers = new Peers(ctx, {
      requestTimeoutMs: this.limits.requestTimeoutMs,
      servedRequestsMax: this.limits.servedRequestsMax,
      servedBytesInFlightMax: this.limits.servedBytesInFlightMax,
      peerRecordsMax: this.limits.peerRecordsMax,
      pushFileBytesMax: this.limits.pushFileBytesMax,
      pushBatchBytesMax: this.limits.pushBatchBytesMax,
      onRecords: (paths) => puller?.markDirty(paths),
      onConnected: () => puller?.retryWaiting(),
      serveBlock: (request) => this.serveBlock(ctx, scanner, blockPool, request),
      releaseBlock: (data) => blockPool.give(data),
      restoreIndex: (peerId, into) =>
        loadPeerIndex(this.fs, this.stateDir, peerId, (record) => {
          if (ctx.folder.isForbidden(record.path)) throw new SyncError('INDEX_CORRUPT', `the saved index of ${peerId} names a forbidden path`, { path: record.path });
          into.restore(record);
        }),
    });
    puller = new Puller(ctx, peers, versions, scanner, {
      transfersInFlightMax: this.limits.transfersInFlightMax,
      blocksInFlightMax: this.limits.blocksInFlightMax,
      fileBytesInFlightMax: this.limits.fileBytesInFlightMax,
      bytesInFlightMax: this.limits.bytesInFlightMax,
      progressIntervalMs: this.limits.progressIntervalMs,
      writebackBytes: this.limits.writebackBytes,
      retryDelayMs: this.limits.retryDelayMs,
    });
    const ignoredPaths = ctx.folder.stateDirRelative ? [ctx.folder.stateDirRelative] : [];
    const watcherOptions = { root: this.dir, ignoredPaths, pollIntervalMs: this.options.pollIntervalMs ?? false };
    const watcher = this.options.createWatcher
      ? this.options.createWatcher(watcherOptions)
      : createWatcher({ root: this.dir, ignoredPaths, pollIntervalMs: watcherOptions.pollIntervalMs });
    const transport = this.options.createTransport
      ? this.options.createTransport(ctx.nodeId)
      : new WsTransport({
          nodeId: ctx.nodeId,
          secret: this.options.secret,
          listen: this.options.listen ?? null,
          software: this.options.software ?? 'sync-node',
          blockBuffers: (bytes) => blockPool.take(bytes),
          ...(this.options.tls ? { tls: this.options.tls } : {}),
        });
    return { ctx, journal, scanner, puller, peers, versions, watcher, transport, timers: [], unsubscribe: [] };
  }

  /** Lives in the folder itself (not the state dir, which may be elsewhere): gone means the folder is not the one we indexed. */
  private get markerPath(): string {
    return join(this.dir, '.sync', 'folder-marker');
  }

  private markerPresent = true;

  private holdDeletesReason(vanished: number, live: number): string | null {
    if (!this.markerPresent) {
      return `the folder marker ${this.markerPath} is missing (is the volume mounted?): ${vanished} deletes held`;
    }
    if (vanished >= this.limits.massDeleteFilesMin && vanished > live * this.limits.massDeleteShareMax) {
      const when = this.state === 'scanning' ? 'while the node was down' : 'without the watcher seeing it (found by a rescan)';
      return `${vanished} of ${live} files vanished ${when}: deletes held`;
    }
    return null;
  }

  private async writeMarker(): Promise<void> {
    await this.fs.mkdir(join(this.dir, '.sync'), 0o700).catch(() => {});
    await this.fs.writeFileAtomic(this.markerPath, new TextEncoder().encode('This folder is synced by sync-node. Do not delete this directory.\n'));
    this.markerPresent = true;
  }

  async confirmDeletes(): Promise<number> {
    const running = this.running;
    if (!running) return 0;
    await this.writeMarker();
    const count = running.scanner.releaseHeldDeletes();
    if (count > 0) this.logger.warn('held deletes confirmed', { count });
    return count;
  }

  private async run(running: Running): Promise<void> {
    const { ctx, puller, peers, watcher, transport, journal, versions } = running;
    watcher.on((event) => this.onWatchEvent(running, event));
    running.unsubscribe.push(
      this.events.on('file-synced', (event) => {
        if (event.path === '.syncignore') this.reloadIgnoreRules(running);
      }),
    );
    await watcher.start();
    this.state = 'scanning';
    await this.scanAll(running);
    this.logger.info('scan complete', { entries: ctx.index.size, node: ctx.nodeId });

    transport.on('connection', (connection) => {
      peers.handleConnection(connection);
      this.logger.debug('peer connected', { peer: connection.peerId, address: connection.remoteAddress, direction: connection.direction });
      this.events.emit('peer-connected', { peerId: connection.peerId, address: connection.remoteAddress, direction: connection.direction });
    });
    transport.on('message', (connection, message) => peers.handleMessage(connection, message));
    transport.on('block', (connection, frame) => peers.handleBlock(connection, frame));
    transport.on('disconnect', (connection, reason) => {
      peers.handleDisconnect(connection);
      this.logger.debug('peer disconnected', { peer: connection.peerId, reason });
      this.events.emit('peer-disconnected', { peerId: connection.peerId, reason });
    });
    transport.on('error', (error) => this.logger.warn('transport', { code: error.code, error: error.message }));
    this.listening = await transport.listen();
    for (const url of this.options.peers ?? []) transport.dial(url);

    const syncJournal = (): void => {
      running.timers[0] = this.clock.setTimeout(() => {
        void (async () => {
          await journal.sync().catch((error: unknown) => this.logger.error('index sync failed', { error: String(error) }));
          if (journal.shouldCompact(ctx.index.size)) await journal.compact([...ctx.index.values()]).catch(() => {});
          if (this.running === running) syncJournal();
        })();
      }, this.limits.journalSyncIntervalMs);
    };
    syncJournal();
    const pruneVersions = (): void => {
      void versions.prune().catch(() => {});
      running.timers[1] = this.clock.setTimeout(() => {
        if (this.running === running) pruneVersions();
      }, versionsPruneIntervalMs);
    };
    pruneVersions();
    const rescan = (): void => {
      if (this.limits.rescanIntervalMs <= 0) return;
      running.timers[3] = this.clock.setTimeout(() => {
        void this.rescanRunning(running).finally(() => {
          if (this.running === running) rescan();
        });
      }, this.limits.rescanIntervalMs);
    };
    rescan();
    void puller;
    this.state = 'idle';
    // Off the start-up path, but ready before the first pull or push is likely to need it.
    running.timers[2] = this.clock.setTimeout(() => {
      if (this.running === running) ctx.index.prepareBlockLookups();
    }, 0);
  }

  /** What we hold of each peer's index, for the next start (`Peers`' `restoreIndex`). */
  private async savePeerIndexes({ peers }: Running): Promise<void> {
    for (const { header, records } of peers.unsavedIndexes()) {
      await savePeerIndex(this.fs, this.stateDir, header, records()).catch((error: unknown) => {
        this.logger.warn('peer index not saved', { peer: header.peerId, error: error instanceof Error ? error.message : String(error) });
      });
    }
  }

  /**
   * Walks the folder: new and changed entries get versions, vanished ones tombstones, unless so
   * many vanished (or the folder marker did) that the deletes are held until a user confirms.
   */
  private async scanAll({ ctx, scanner }: Running): Promise<void> {
    const markerFound = (await this.fs.lstat(this.markerPath)) !== null;
    this.markerPresent = ctx.index.size === 0 || markerFound;
    await scanner.scanFolder();
    const held = scanner.heldDeletes;
    if (held) {
      ctx.counters.errors++;
      this.events.emit('error', new SyncError('DELETES_HELD', `${held.reason}; confirm with \`sync-node confirm-deletes\` or POST /confirm-deletes`));
    } else if (!markerFound) await this.writeMarker();
  }

  async rescan(): Promise<void> {
    if (this.running && this.state !== 'starting' && this.state !== 'scanning') await this.rescanRunning(this.running);
  }

  private rescanning: Promise<void> | null = null;

  /** One rescan at a time: a caller that asks during one waits for it. */
  private rescanRunning(running: Running): Promise<void> {
    this.rescanning ??= this.walkAgain(running).finally(() => (this.rescanning = null));
    return this.rescanning;
  }

  private async walkAgain(running: Running): Promise<void> {
    const started = this.clock.now();
    const sequence = running.ctx.index.sequence;
    await this.scanAll(running).catch((error: unknown) => this.logger.warn('rescan failed', { error: String(error) }));
    if (this.running !== running) return;
    // Changes the watcher reported during the walk count too, so this is at most what it missed.
    this.logger.info('rescan complete', { entries: running.ctx.index.size, indexed: running.ctx.index.sequence - sequence, took: `${this.clock.now() - started} ms` });
  }

  private onWatchEvent({ ctx, scanner, puller, peers }: Running, event: WatchEvent): void {
    if (event.type === 'ready') return;
    if (event.type === 'error') {
      this.logger.warn('watcher', { error: event.error.message });
      return;
    }
    if (event.path === '.syncignore') this.reloadIgnoreRules({ ctx, scanner, puller, peers });
    scanner.schedule(event.path);
  }

  /**
   * New rules change what is local-only: files they un-hide were never reported by the watcher, so
   * walk again; remote records they un-hide were skipped, so plan them again. Runs for a user edit
   * of `.syncignore` and for one that arrived from a peer (no watcher event is relied on).
   */
  private reloadIgnoreRules({ ctx, scanner, puller, peers }: Pick<Running, 'ctx' | 'scanner' | 'puller' | 'peers'>): void {
    void this.loadIgnoreRules()
      .then(async (rules) => {
        if (rules.text === ctx.ignoreRules.text) return;
        ctx.ignoreRules = rules;
        puller.markDirty(peers.remotePaths());
        await scanner.scanFolder();
      })
      .catch((error: unknown) => this.logger.warn('ignore rules not reloaded', { error: String(error) }));
  }

  /** Through the FileSystem port like every other read, so an injected filesystem sees it too. */
  private async loadIgnoreRules(): Promise<IgnoreRules> {
    const data = await this.fs.readFile(join(this.dir, defaultIgnoreFileName));
    return IgnoreRules.fromText(data ? new TextDecoder().decode(data) : '');
  }

  private async serveBlock(
    ctx: EngineContext,
    scanner: Scanner,
    pool: BlockPool,
    request: RequestMessage,
  ): Promise<Uint8Array | { code: 'NOT_FOUND' | 'CHANGED' | 'IO'; message: string }> {
    const record = ctx.index.get(request.path);
    if (!isLive(record) || record.type !== 'file' || ctx.folder.isForbidden(request.path) || ctx.isIgnored(request.path, false)) {
      return { code: 'NOT_FOUND', message: 'no such file in the index' };
    }
    // Blocks tile the file at one size, so the offset names the only candidate (no scan of 2,048 blocks per request).
    const block = record.blocks[Math.floor(request.offset / blockSizeFor(record.size))];
    if (!block || block.offset !== request.offset || block.hash !== request.hash || block.size !== request.size) {
      return { code: 'NOT_FOUND', message: 'no such block in the current version' };
    }
    if (!(await ctx.folder.parentsAreDirs(request.path))) return { code: 'NOT_FOUND', message: 'path no longer reachable' };
    // Unfilled memory (fresh or reused): a short read must never be sent.
    const data = pool.take(block.size);
    let filled = 0;
    try {
      const handle = await ctx.fs.openRead(ctx.folder.abs(request.path));
      try {
        filled = await readFull(handle, data, block.offset);
      } finally {
        await handle.close();
      }
    } catch {
      filled = -1;
    }
    if (filled !== block.size) {
      pool.give(data);
      scanner.enqueue(request.path);
      return { code: 'CHANGED', message: 'file could not be read' };
    }
    // The receiver verifies every block against its hash; here a stat after the read tells a file
    // changed since it was indexed, which saves the sender a second SHA-256 pass over all it serves.
    const after = await ctx.fs.lstat(ctx.folder.abs(request.path)).catch(() => null);
    if (!after || !sameFingerprint(record.disk, after)) {
      pool.give(data);
      scanner.enqueue(request.path);
      return { code: 'CHANGED', message: 'file changed on disk' };
    }
    return data;
  }

  status(): SyncStatus {
    const running = this.running;
    const totals = running ? running.ctx.index.totals() : { files: 0, directories: 0, symlinks: 0, bytes: 0 };
    const busy = running ? running.puller.transfersInFlight + running.puller.pendingPaths + running.scanner.pending : 0;
    return {
      nodeId: this.id ?? '',
      dir: this.dir,
      stateDir: this.stateDir,
      state: this.state === 'idle' && busy > 0 ? 'syncing' : this.state,
      listening: this.listening,
      peers: running ? running.peers.connected() : [],
      ...totals,
      transfersInFlight: running?.puller.transfersInFlight ?? 0,
      pendingPaths: running ? running.puller.pendingPaths + running.scanner.pending : 0,
      sequence: running?.ctx.index.sequence ?? 0,
      indexId: running?.ctx.index.indexId ?? '',
      heldDeletes: running?.scanner.heldDeletes ?? null,
      failingPaths: running?.scanner.failingPaths ?? 0,
      tlsFingerprint: this.certificateFingerprint(),
      ...this.counters,
    };
  }

  async whenIdle(): Promise<void> {
    const running = this.running;
    if (!running) return;
    for (;;) {
      await running.scanner.whenIdle();
      await running.puller.whenIdle();
      if (running.scanner.pending === 0 && !this.pullerBusy(running)) return;
    }
  }

  // Parsing the certificate at every status read (each metrics scrape makes several) is waste.
  private certificateFingerprint(): string | null {
    if (this.tlsFingerprint === undefined) {
      const cert = this.options.tls?.cert;
      this.tlsFingerprint = cert ? new X509Certificate(cert).fingerprint256 : null;
    }
    return this.tlsFingerprint;
  }

  private pullerBusy(running: Running): boolean {
    return running.puller.transfersInFlight > 0;
  }

  stop(): Promise<void> {
    this.stopping ??= this.teardown().finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  private async teardown(): Promise<void> {
    const running = this.running;
    this.running = null;
    this.listening = null;
    if (!running) {
      this.state = 'stopped';
      return;
    }
    for (const unsubscribe of running.unsubscribe) unsubscribe();
    for (const timer of running.timers) this.clock.clearTimeout(timer);
    running.scanner.stop();
    running.puller.stop();
    await running.watcher.close().catch(() => {});
    running.peers.close();
    await running.transport.close().catch(() => {});
    await Promise.race([running.puller.whenIdle(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    await running.journal.close();
    // After our own index is durable: a daemon that gives up on a slow stop loses only this.
    await this.savePeerIndexes(running);
    this.state = 'stopped';
  }
}
