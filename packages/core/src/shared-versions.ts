import type { VersionVector } from '@sync/conflict';

/** Vectors of one entry up to this counter are shared. */
const counterMax = 64;
/** Node ids remembered, so a peer inventing ids cannot grow the table without bound. */
const nodesMax = 1024;

const byNode = new Map<string, VersionVector[]>();

/**
 * One object for each common version vector. A tree added on one node gives every file the
 * version `{ node: 1 }`, and each record decoded from the journal or from a peer's index would
 * otherwise hold a copy of its own (~48 B each: 4.8 MB at 100,000 files). Only vectors of one
 * entry with a small counter are shared; vectors are never changed in place, so that is safe.
 */
export function sharedVersion(version: VersionVector): VersionVector {
  if (typeof version !== 'object' || version === null) return version;
  const ids = Object.keys(version);
  if (ids.length !== 1) return version;
  const id = ids[0]!;
  const counter = version[id]!;
  if (!Number.isInteger(counter) || counter < 0 || counter > counterMax) return version;
  let vectors = byNode.get(id);
  if (!vectors) {
    if (byNode.size >= nodesMax) return version;
    byNode.set(id, (vectors = []));
  }
  return (vectors[counter] ??= version);
}
