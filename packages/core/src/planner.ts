import { compare, resolve, sameContent } from '@sync/conflict';
import type { ConflictPolicy, ResolutionKind } from '@sync/conflict';
import type { FileRecord } from '@sync/protocol';
import type { LocalRecord } from './record';
import { sameMtime } from './record';
import type { PeerSource } from './peers';

export interface ConflictCopy {
  /** The record whose content lost; kept under `copyPath`. */
  loser: FileRecord;
  copyPath: string;
}

export interface ConflictNote {
  kind: ResolutionKind;
  winner: string;
  loser: string;
  copyPath: string | null;
}

/** The plain decision for one path: what the disk should become, and which losing contents to keep. */
export interface PathPlan {
  path: string;
  local: LocalRecord | undefined;
  target: FileRecord;
  copies: readonly ConflictCopy[];
  conflicts: readonly ConflictNote[];
}

// Nearly every plan has neither: one shared empty list instead of two per plan, which a pass over
// a whole peer's index (100,000 plans, alive until the pass ends) would otherwise hold.
const noCopies: readonly ConflictCopy[] = Object.freeze([]);
const noConflicts: readonly ConflictNote[] = Object.freeze([]);

/**
 * Folds the local record and every peer's record for one path into the version every node will
 * agree on. Deterministic: the same inputs give the same target on every node.
 */
export function planPath(path: string, local: LocalRecord | undefined, remotes: readonly PeerSource[], policy: ConflictPolicy): PathPlan | null {
  let target: FileRecord | undefined = local;
  const copies: ConflictCopy[] = [];
  const conflicts: ConflictNote[] = [];
  for (const { record } of remotes) {
    if (!target) {
      target = record;
      continue;
    }
    const order = compare(target.version, record.version);
    if (order === 'before') target = record;
    // Equal vectors with different content should not happen, but if they do (a bug, a restored
    // backup), resolving them like concurrent ones keeps both contents instead of ignoring one.
    else if (order === 'concurrent' || (order === 'equal' && !sameState(target, record))) {
      const resolution = resolve(target, record, policy);
      if (resolution.loser) {
        conflicts.push({ kind: resolution.kind, winner: resolution.winner.modifiedBy, loser: resolution.loser.modifiedBy, copyPath: resolution.conflictCopyPath });
        if (resolution.conflictCopyPath) copies.push({ loser: resolution.loser, copyPath: resolution.conflictCopyPath });
      }
      target = resolution.winner;
    }
  }
  if (!target || target === local) return null;
  if (local && compare(local.version, target.version) === 'equal' && sameState(local, target)) return null;
  return { path, local, target, copies: copies.length > 0 ? copies : noCopies, conflicts: conflicts.length > 0 ? conflicts : noConflicts };
}

/**
 * Content, permission bits and a file's mtime: two nodes that agree on the bytes but not the mode
 * or mtime have not converged. Folding the same concurrent records in different orders can leave
 * two nodes with equal vectors and different mtimes; this makes them settle on one.
 */
function sameState(a: FileRecord, b: FileRecord): boolean {
  if (!sameContent(a, b)) return false;
  if (a.deleted) return true;
  return a.mode === b.mode && (a.type !== 'file' || sameMtime(a.mtimeMs, b.mtimeMs));
}
