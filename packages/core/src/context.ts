import type { ConflictPolicy } from '@sync/conflict';
import type { IgnoreRules } from '@sync/watcher';
import type { BusyPaths } from './busy-paths';
import type { Emitter } from './emitter';
import type { SyncEvents } from './events';
import type { Folder } from './folder';
import type { LocalIndex } from './local-index';
import type { Clock, FileSystem, Logger, Random } from './ports';

export interface Counters {
  bytesReceived: number;
  bytesSent: number;
  bytesReused: number;
  /** Blocks asked of peers (pushed ones, and ones copied locally, are not). */
  blocksRequested: number;
  /** Index records peers sent (a full index on first contact; after a restart, only what is newer than the saved one). */
  recordsReceived: number;
  filesSynced: number;
  conflicts: number;
  errors: number;
}

/** What the engine's parts share. */
export interface EngineContext {
  readonly nodeId: string;
  readonly fs: FileSystem;
  readonly folder: Folder;
  readonly index: LocalIndex;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly events: Emitter<SyncEvents>;
  readonly conflictPolicy: ConflictPolicy;
  readonly counters: Counters;
  /** Paths the engine is writing right now; the scanner leaves them alone until done. */
  readonly busy: BusyPaths;
  /** Makes journal lines durable (fsync); awaited before records are announced. */
  journalFlush(): Promise<void>;
  ignoreRules: IgnoreRules;
  isIgnored(path: string, isDirectory: boolean): boolean;
}
