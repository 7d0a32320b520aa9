import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags the daemon sets for its own process. Allocation-site pretenuring off: a node serving
 * 100,000 small files had the allocation sites of its request path switched to old-space
 * allocation (they once saw many survivors, in a burst), and from then on every request's
 * short-lived objects were garbage only a mark-compact collects: its heap grew ~130 MB in 30 s of
 * serving. Set by the daemon, which owns its process; an embedder of `@sync/core` decides for its own.
 */
export const heapFlags: readonly string[] = ['--no-allocation-site-pretenuring'];

export function tuneHeap(): void {
  for (const flag of heapFlags) setFlagsFromString(flag);
}
