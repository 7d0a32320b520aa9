import type { WatcherError } from './errors';

export type WatchEventType = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir';

/**
 * What a watcher reports. `path` is POSIX, relative to the watched root, NFC, never '' (the root
 * itself is not reported) and never starts with './'.
 */
export type WatchEvent =
  | { type: WatchEventType; path: string }
  | { type: 'error'; error: WatcherError }
  | { type: 'ready' };

export type WatchListener = (event: WatchEvent) => void;

export interface Watcher {
  /** Starts watching; resolves once the initial crawl is done ('ready'). */
  start(): Promise<void>;
  /** Subscribe; returns an unsubscribe function. */
  on(listener: WatchListener): () => void;
  close(): Promise<void>;
}

export function isDirectoryEvent(type: WatchEventType): boolean {
  return type === 'addDir' || type === 'unlinkDir';
}
