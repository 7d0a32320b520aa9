import { ConflictError } from './errors';
import { conflictName } from './conflict-name';
import { compare, merge } from './version-vector';
import type { VersionVector } from './version-vector';

/** `keep-both` keeps the loser's content as a conflict copy; `newest-wins` discards it. */
export type ConflictPolicy = 'keep-both' | 'newest-wins';
export const conflictPolicies: readonly ConflictPolicy[] = Object.freeze(['keep-both', 'newest-wins'] as const);

/** The fields the rules read; callers pass richer records and get them back (generic `T`). */
export interface Resolvable {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  hash: string;
  target?: string | undefined;
  deleted: boolean;
  mtimeMs: number;
  modifiedBy: string;
  version: VersionVector;
}

export type ResolutionKind =
  | 'equal'
  | 'dominates'
  | 'same-content'
  | 'change-beats-delete'
  | 'dir-beats-file'
  | 'newer-wins';

export interface Resolution<T extends Resolvable> {
  kind: ResolutionKind;
  /** The record every node adopts. */
  winner: T;
  /** The record whose content lost, or null when no content is lost. */
  loser: T | null;
  /** Where the loser's content is kept (keep-both), or null. */
  conflictCopyPath: string | null;
}

/** Both deleted, or both present with the same type and the same hash / target. */
export function sameContent(a: Resolvable, b: Resolvable): boolean {
  if (a.deleted || b.deleted) return a.deleted && b.deleted;
  if (a.type !== b.type) return false;
  if (a.type === 'file') return a.hash === b.hash;
  if (a.type === 'symlink') return a.target === b.target;
  return true;
}

const compareStrings = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/** JSON with sorted keys: equal for records that are equal field by field, in any key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const entries = Object.entries(value).filter(([, field]) => field !== undefined);
  entries.sort(([x], [y]) => compareStrings(x, y));
  return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
}

/**
 * What a node keeps about its own copy of a record: a copy of one version has another `sequence`
 * (and `disk` fingerprint) on every node, so these must never decide which record wins.
 */
const nodeLocalFields: ReadonlySet<string> = new Set(['sequence', 'disk']);

// The winner of concurrent records carries the merged vector, so a record's own vector must not
// break a tie either: a fold in another order compares other intermediate vectors.
function fieldsOf(record: Resolvable, keep: (key: string) => boolean): string {
  return canonicalJson(Object.fromEntries(Object.entries(record).filter(([key]) => key !== 'version' && keep(key))));
}

// Later mtime, then larger modifiedBy, as the design says. The rest only breaks the remaining
// ties (two nodes that merged concurrent chmods can hold equal vectors and mtimes with different
// modes), so the pick depends neither on argument order nor on the node that makes it. Node-local
// fields come last: they decide only between records that replicate the same, where the pick
// changes nothing another node sees, and they keep resolve symmetric there too.
function newerOrder(a: Resolvable, b: Resolvable): number {
  const replicated = (key: string): boolean => !nodeLocalFields.has(key);
  return (
    Math.sign(a.mtimeMs - b.mtimeMs) ||
    compareStrings(a.modifiedBy, b.modifiedBy) ||
    Number(a.deleted) - Number(b.deleted) ||
    compareStrings(a.type, b.type) ||
    compareStrings(a.hash, b.hash) ||
    compareStrings(a.target ?? '', b.target ?? '') ||
    compareStrings(fieldsOf(a, replicated), fieldsOf(b, replicated)) ||
    compareStrings(fieldsOf(a, () => true), fieldsOf(b, () => true))
  );
}

function assertComparable(a: Resolvable, b: Resolvable): void {
  if (a.path !== b.path) {
    throw new ConflictError('PATH_MISMATCH', `cannot resolve ${JSON.stringify(a.path)} against ${JSON.stringify(b.path)}`);
  }
  for (const record of [a, b]) {
    if (!Number.isFinite(record.mtimeMs)) {
      throw new ConflictError('INVALID_TIME', `mtime of ${JSON.stringify(record.path)} is ${record.mtimeMs}`);
    }
  }
}

const settled = <T extends Resolvable>(kind: ResolutionKind, winner: T): Resolution<T> => ({
  kind,
  winner,
  loser: null,
  conflictCopyPath: null,
});

/**
 * Decides which of two records of one path every node adopts. Symmetric in `a` and `b`, pure, and
 * the winner of concurrent records carries the merged vector, so it dominates both.
 */
export function resolve<T extends Resolvable>(a: T, b: T, policy: ConflictPolicy = 'keep-both'): Resolution<T> {
  assertComparable(a, b);
  const ordering = compare(a.version, b.version);
  if (ordering === 'after') return settled('dominates', a);
  if (ordering === 'before') return settled('dominates', b);

  const version = merge(a.version, b.version);
  const adopt = (record: T): T => ({ ...record, version });
  const [newer, older] = newerOrder(a, b) >= 0 ? [a, b] : [b, a];
  if (sameContent(a, b)) return settled(ordering === 'equal' ? 'equal' : 'same-content', adopt(newer));

  // Equal vectors with different content arise when nodes folded the same concurrent records in
  // different orders; resolving them like concurrent ones keeps the losing content.
  if (a.deleted !== b.deleted) return settled('change-beats-delete', adopt(a.deleted ? b : a));
  const dirBeatsFile = (a.type === 'dir') !== (b.type === 'dir');
  const [winner, loser] = dirBeatsFile ? (a.type === 'dir' ? [a, b] : [b, a]) : [newer, older];
  return {
    kind: dirBeatsFile ? 'dir-beats-file' : 'newer-wins',
    winner: adopt(winner),
    loser,
    conflictCopyPath: policy === 'keep-both' ? conflictName(loser.path, loser.mtimeMs, loser.modifiedBy) : null,
  };
}
