import type { BlockInfo, FileRecord } from '@sync/protocol';
import type { EngineContext } from './context';
import type { Peers } from './peers';
import type { Versions } from './versions';
import type { FileStat } from './ports';
import { fileHashOf, readFull, sha256 } from './hashing';
import { SyncError } from './errors';
import { isLive, sameFingerprint } from './record';
import type { ByteBudget } from './byte-budget';

export interface TransferLimits {
  /** Blocks of one file requested or copied at once… */
  blocksInFlightMax: number;
  /** …and their bytes: a deep window hides the round trip, bounded so large blocks do not take all the memory. */
  fileBytesInFlightMax: number;
  /** Block bytes held in memory by all transfers together. */
  bytesInFlightMax: number;
  progressIntervalMs: number;
  /** A file's written bytes are synced in the background every this many (0: only at the end). */
  writebackBytes: number;
}

export interface FetchedFile {
  tempPath: string;
  stat: FileStat;
  bytesFromPeers: number;
}

/**
 * Assembles `target`'s content in a temp file of the state dir: blocks found locally (any live
 * file or kept version with the same block hash) are copied, the rest are requested from
 * `sources`, spread over them. Every block is verified against its hash, and the block list against
 * the file's hash (`fileHashOf`), so the assembled file is the one the record names.
 */
export async function fetchFile(
  ctx: EngineContext,
  peers: Peers,
  versions: Versions,
  budget: ByteBudget,
  limits: TransferLimits,
  target: FileRecord,
  remotePath: string,
  sources: string[],
): Promise<FetchedFile> {
  if (fileHashOf(target.blocks) !== target.hash) {
    throw new SyncError('HASH_MISMATCH', `the record of ${target.path} names blocks that do not make its hash`, { path: target.path });
  }
  const tempPath = ctx.folder.tempPath(ctx.random.id(12));
  const inPlace = await copyLocalBase(ctx, target, tempPath);
  const handle = inPlace ? await ctx.fs.openUpdate(tempPath) : await ctx.fs.openWrite(tempPath);
  const startedAtMs = ctx.clock.now();
  let lastProgressMs = startedAtMs;
  let bytesDone = 0;
  let bytesFromPeers = 0;
  let next = 0;
  let failure: unknown = null;
  let sourceTurn = 0;
  let unsyncedBytes = 0;
  // One background sync at a time. Its error fails the transfer: Linux reports a writeback error
  // to one fsync only, so the final sync could succeed on a file whose bytes were lost.
  let writeback: Promise<void> | null = null;
  const startWriteback = (): void => {
    unsyncedBytes = 0;
    writeback = handle.sync().then(
      () => {
        writeback = null;
      },
      (error: unknown) => {
        writeback = null;
        failure ??= error;
      },
    );
  };

  const fetchBlock = async (block: BlockInfo): Promise<Uint8Array> => {
    const pushed = peers.takePushed(block.hash);
    if (pushed && pushed.byteLength === block.size) {
      bytesFromPeers += block.size;
      return pushed;
    }
    const local = await readLocalBlock(ctx, versions, block);
    if (local) {
      ctx.counters.bytesReused += block.size;
      return local;
    }
    // Built only on failure: an error captures a stack, which is not free once per block.
    let lastError: unknown = null;
    for (let attempt = 0; attempt < Math.max(1, sources.length) * 2; attempt++) {
      const peerId = sources[sourceTurn++ % Math.max(1, sources.length)];
      if (peerId === undefined || !peers.isConnected(peerId)) continue;
      try {
        const data = await peers.request(peerId, remotePath, block);
        if (data.byteLength === block.size && sha256(data) === block.hash) {
          bytesFromPeers += data.byteLength;
          return data;
        }
        lastError = new SyncError('HASH_MISMATCH', `${peerId} sent a corrupt block of ${remotePath}`, { path: target.path });
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError ?? new SyncError('NO_SOURCE', `no connected peer has ${remotePath}`, { path: target.path });
  };

  const worker = async (): Promise<void> => {
    while (failure === null) {
      const index = next;
      const block = target.blocks[index];
      if (!block) return;
      next++;
      if (inPlace?.has(index)) {
        ctx.counters.bytesReused += block.size;
        bytesDone += block.size;
        continue;
      }
      await budget.acquire(block.size);
      try {
        const data = await fetchBlock(block);
        await handle.write(data, block.offset);
        // Received blocks sit in the block pool's buffers: this one can take the next block.
        peers.recycle(data);
        bytesDone += block.size;
        unsyncedBytes += block.size;
        if (limits.writebackBytes > 0 && unsyncedBytes >= limits.writebackBytes && writeback === null) startWriteback();
        const now = ctx.clock.now();
        if (now - lastProgressMs >= limits.progressIntervalMs) {
          lastProgressMs = now;
          ctx.events.emit('progress', { path: target.path, bytesDone, bytesTotal: target.size, startedAtMs });
        }
      } catch (error) {
        failure ??= error;
      } finally {
        budget.release(block.size);
      }
    }
  };

  try {
    const blockSize = target.blocks[0]?.size ?? 1;
    const workers = Math.max(1, Math.min(limits.blocksInFlightMax, Math.floor(limits.fileBytesInFlightMax / blockSize), target.blocks.length));
    await Promise.all(Array.from({ length: workers }, worker));
    await writeback;
    if (failure !== null) throw failure;
    if (inPlace) await ctx.fs.truncate(tempPath, target.size);
    // Mode and mtime before the fsync, so they are as durable as the bytes: set after it, a crash
    // could bring the file back with the temp file's mode and a fresh mtime, and a rescan would
    // announce that as a new version.
    await ctx.fs.chmod(tempPath, target.mode & 0o7777);
    await ctx.fs.utimes(tempPath, target.mtimeMs);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await ctx.fs.unlink(tempPath).catch(() => {});
    throw error;
  }
  await handle.close();
  const stat = await ctx.fs.lstat(tempPath);
  if (!stat) throw new SyncError('IO', `temp file of ${target.path} vanished`, { path: target.path });
  return { tempPath, stat, bytesFromPeers };
}

/** Files of fewer blocks are assembled block by block; a base copy is not worth its lookups. */
const baseBlocksMin = 8;

/**
 * Starts the temp file as a kernel copy (a reflink where the filesystem has them) of a local file
 * that already holds at least half the target's blocks at their offsets: the previous version of
 * the path (an edit in the middle of a big file) or the same content elsewhere (a rename or copy).
 * Returns the indexes of the blocks now in place, or null when there is no such file. The copied
 * bytes are trusted as the index's fingerprint (size, mtime, inode, checked before and after the
 * copy) vouches for them, as a restart trusts an unchanged file.
 */
async function copyLocalBase(ctx: EngineContext, target: FileRecord, tempPath: string): Promise<Set<number> | null> {
  if (target.blocks.length < baseBlocksMin) return null;
  const candidates = [ctx.index.get(target.path), ...ctx.index.blockLocations(target.blocks[0]!.hash).map((location) => ctx.index.get(location.path))];
  for (const base of candidates) {
    if (!isLive(base) || base.type !== 'file' || !base.disk || ctx.folder.isForbidden(base.path)) continue;
    const inPlace = new Set<number>();
    target.blocks.forEach((block, index) => {
      const there = base.blocks[index];
      if (there && there.hash === block.hash && there.offset === block.offset && there.size === block.size) inPlace.add(index);
    });
    if (inPlace.size * 2 < target.blocks.length) continue;
    const unchanged = async (): Promise<boolean> => {
      const stat = await ctx.folder.stat(base.path).catch(() => null);
      return stat !== null && sameFingerprint(base.disk, stat);
    };
    if (!(await unchanged())) continue;
    try {
      await ctx.fs.copyFile(ctx.folder.abs(base.path), tempPath);
    } catch {
      await ctx.fs.unlink(tempPath).catch(() => {});
      continue;
    }
    if (await unchanged()) return inPlace;
    await ctx.fs.unlink(tempPath).catch(() => {});
  }
  return null;
}

/** A block from any local file or kept version that still holds it (verified: the disk may have moved on). */
async function readLocalBlock(ctx: EngineContext, versions: Versions, block: BlockInfo): Promise<Uint8Array | null> {
  const candidates: { abs: string; offset: number }[] = [];
  for (const location of ctx.index.blockLocations(block.hash)) {
    if (!ctx.folder.isForbidden(location.path)) candidates.push({ abs: ctx.folder.abs(location.path), offset: location.offset });
  }
  const kept = versions.blockSource(block.hash);
  if (kept) candidates.push({ abs: kept.abs, offset: kept.offset });
  for (const candidate of candidates) {
    try {
      const handle = await ctx.fs.openRead(candidate.abs);
      try {
        const data = new Uint8Array(block.size);
        const filled = await readFull(handle, data, candidate.offset);
        if (filled === block.size && sha256(data) === block.hash) return data;
      } finally {
        await handle.close();
      }
    } catch {
      // Gone or unreadable: try the next place, then the network.
    }
  }
  return null;
}
