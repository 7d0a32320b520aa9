import type { FSWatcher, Stats } from 'node:fs';

/**
 * One watched directory: a node of the tree that mirrors the watched directories on disk. This is
 * the only state NativeWatcher keeps, one node per directory; files have none.
 */
export interface WatchedDirectory {
  /** The name in the parent exactly as the OS gives it (not NFC): what fs.watch reports and lstat needs. */
  readonly name: string;
  readonly absolutePath: string;
  /** POSIX, NFC, relative to the root; '' for the root. */
  readonly relativePath: string;
  readonly parent: WatchedDirectory | null;
  /** Which directory this is, to tell it from another one later found under the same name. */
  readonly dev: number;
  readonly ino: number;
  /** By raw name. */
  readonly children: Map<string, WatchedDirectory>;
  /**
   * null once closed: deleted, moved away or replaced. Such a node may stay in its parent's map
   * until the parent's event for its name arrives, so that the event is reported as `unlinkDir`.
   */
  fsWatcher: FSWatcher | null;
}

export function isSameDirectory(directory: WatchedDirectory, stats: Stats): boolean {
  return stats.isDirectory() && stats.ino === directory.ino && stats.dev === directory.dev;
}

/** The reported path of `name` inside a directory whose reported path is `parent`. */
export function childRelativePath(parent: string, name: string): string {
  return (parent === '' ? name : `${parent}/${name}`).normalize('NFC');
}

/** Closes the watchers of `top` and of everything beneath it; returns how many were open. */
export function closeSubtree(top: WatchedDirectory): number {
  let closed = 0;
  const pending: WatchedDirectory[] = [top];
  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    if (directory.fsWatcher !== null) {
      directory.fsWatcher.close();
      directory.fsWatcher = null;
      closed += 1;
    }
    for (const child of directory.children.values()) pending.push(child);
    directory.children.clear();
  }
  return closed;
}
