import { assertNodeId } from './node-id';

/** nodeId -> counter. A missing entry counts as 0. */
export type VersionVector = Readonly<Record<string, number>>;

/** compare(a, b): `before` when b dominates a, `after` when a dominates b. */
export type Ordering = 'equal' | 'before' | 'after' | 'concurrent';

// Node ids such as `constructor` or `__proto__` are valid, so never read a counter through the prototype.
function counterOf(v: VersionVector, nodeId: string): number {
  return Object.hasOwn(v, nodeId) ? (v[nodeId] ?? 0) : 0;
}

function unionKeys(a: VersionVector, b: VersionVector): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}

// Sorted keys make a vector's JSON the same on every node; fromEntries defines `__proto__` as data.
function canonical(entries: Array<[string, number]>): VersionVector {
  entries.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return Object.fromEntries(entries);
}

export function emptyVector(): VersionVector {
  return {};
}

/** A change by `nodeId`: its counter becomes one more than the highest counter in `v`. */
export function increment(v: VersionVector, nodeId: string): VersionVector {
  assertNodeId(nodeId);
  const highest = Math.max(0, ...Object.values(v));
  const others = Object.entries(v).filter(([id]) => id !== nodeId);
  return canonical([...others, [nodeId, highest + 1]]);
}

/** Element-wise maximum. */
export function merge(a: VersionVector, b: VersionVector): VersionVector {
  return canonical(unionKeys(a, b).map((id) => [id, Math.max(counterOf(a, id), counterOf(b, id))]));
}

export function compare(a: VersionVector, b: VersionVector): Ordering {
  let aAhead = false;
  let bAhead = false;
  for (const id of unionKeys(a, b)) {
    const x = counterOf(a, id);
    const y = counterOf(b, id);
    if (x > y) aAhead = true;
    else if (y > x) bAhead = true;
  }
  if (aAhead && bAhead) return 'concurrent';
  if (aAhead) return 'after';
  if (bAhead) return 'before';
  return 'equal';
}

/** `compare(a, b) === 'equal'` without building the union of their ids (called per record received). */
export function equal(a: VersionVector, b: VersionVector): boolean {
  for (const id of Object.keys(a)) if (counterOf(a, id) !== counterOf(b, id)) return false;
  for (const id of Object.keys(b)) if (counterOf(a, id) !== counterOf(b, id)) return false;
  return true;
}

/** True when `a` has seen everything `b` has (after or equal). */
export function dominates(a: VersionVector, b: VersionVector): boolean {
  const ordering = compare(a, b);
  return ordering === 'after' || ordering === 'equal';
}
