import { lstatSync } from 'node:fs';
import type { Stats } from 'node:fs';

/**
 * lstat that never throws: undefined when the path is gone or cannot be looked at. Synchronous on
 * purpose: it runs once per watcher event, where a round trip through the thread pool would cost
 * more than the call itself and would let later events overtake it.
 */
export function lstatQuiet(absolutePath: string): Stats | undefined {
  try {
    return lstatSync(absolutePath, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
