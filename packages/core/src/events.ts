import type { FileType } from '@sync/protocol';
import type { SyncError } from './errors';

export type ChangeOp = 'add' | 'change' | 'remove';

/** A plain description of one sync step, before or as it is applied: for logs, progress and dry runs. */
export interface SyncStep {
  op: ChangeOp | 'mkdir' | 'conflict';
  path: string;
  type: FileType;
  size: number;
  copyPath?: string;
}

export interface FileSyncedEvent {
  path: string;
  op: ChangeOp;
  type: FileType;
  bytes: number;
  fromPeer: string;
  durationMs: number;
}

export interface ProgressEvent {
  path: string;
  bytesDone: number;
  bytesTotal: number;
  startedAtMs: number;
}

export interface SyncEvents {
  'file-synced': (event: FileSyncedEvent) => void;
  'local-change': (event: { path: string; op: ChangeOp; type: FileType }) => void;
  conflict: (event: { path: string; copyPath: string | null; winner: string; loser: string; kind: string }) => void;
  'peer-connected': (event: { peerId: string; address: string; direction: 'inbound' | 'outbound' }) => void;
  'peer-disconnected': (event: { peerId: string; reason: string }) => void;
  /** A file being received: bytes written so far. */
  progress: (event: ProgressEvent) => void;
  /**
   * A local file being hashed before it can be announced (peers wait for it), every
   * `limits.progressIntervalMs` once it has taken that long, and once more when done.
   */
  'hash-progress': (event: ProgressEvent) => void;
  step: (step: SyncStep) => void;
  error: (error: SyncError) => void;
}
