import { readdirSync, watch } from 'node:fs';
import type { Dirent, FSWatcher, Stats } from 'node:fs';
import path from 'node:path';
import { asWatcherError, WatcherError } from './errors';
import { lstatQuiet } from './lstat-quiet';
import { isUnderAny } from './relative-path';
import { describeWatchFailure, errorCode, isVanished } from './watch-failure';
import { childRelativePath, closeSubtree, isSameDirectory } from './watched-directory';
import type { WatchedDirectory } from './watched-directory';
import { WatcherBase } from './watcher-base';
import type { WatcherOptions } from './watcher-options';

/**
 * The Linux watcher: one non-recursive `fs.watch` per directory (libuv shares one inotify fd; each
 * directory costs one inotify watch). An event costs one `lstat` of the path it names, never a
 * readdir, and changes are not throttled. Only directories have state (`WatchedDirectory`).
 *
 * What Node reports on Linux, and how it is handled:
 * - An event names an entry of the watched directory: 'rename' (created, deleted, moved; every
 *   event of a subdirectory, even chmod, because libuv flags IN_ISDIR as a rename) or 'change'.
 * - A watched directory's own deletion or move (IN_DELETE_SELF, IN_MOVE_SELF, then IN_IGNORED)
 *   arrives on its own watcher as 'rename' of its own base name. On deletion that comes before the
 *   parent's event; on a move, after. Until closed, a moved directory's watcher keeps reporting
 *   its children under the old path, so it is closed as soon as either event is seen (lstat
 *   tells: the directory is gone from its path, or another one is there).
 * - A chmod of the watched directory itself looks the same, but the directory is still there: it
 *   is taken as an event for a child of that name, since it cannot be told from one.
 * - Two fs.watch handles on one directory share one inotify watch, and self events then carry the
 *   first handle's name. A moved directory's old handle is therefore closed (on the parent's
 *   event for the old name, which inotify queues first) before its new path is watched.
 * - `filename` is always given on Linux. Where it is not (other platforms), the directory itself
 *   is reported as `addDir`, and nothing for the root, which is never reported.
 * - inotify queue overflow (IN_Q_OVERFLOW) is dropped by libuv and never reaches Node.
 *
 * Walks are synchronous (one readdir and one lstat per directory, no call per file), so a
 * directory's events are never interleaved with the walk that attaches its watchers.
 */
export class NativeWatcher extends WatcherBase {
  private root: WatchedDirectory | null = null;
  private openWatchers = 0;
  /** Error codes already reported as WATCH_FAILED: one report per cause, not one per directory. */
  private readonly failuresReported = new Set<string>();

  constructor(options: WatcherOptions) {
    super(options);
    if (this.options.pollIntervalMs !== false) {
      throw new WatcherError('INVALID_OPTIONS', 'NativeWatcher does not poll; use ChokidarWatcher (or createWatcher) with pollIntervalMs');
    }
  }

  /** Directories with an open fs.watch handle, each one inotify watch. */
  get watchedDirectoryCount(): number {
    return this.openWatchers;
  }

  protected async watchTree(): Promise<void> {
    const stats = lstatQuiet(this.realRoot);
    if (stats?.isDirectory() !== true) throw new WatcherError('ROOT_MISSING', `the watched folder ${this.realRoot} vanished`);
    this.root = this.attach(null, path.basename(this.realRoot), this.realRoot, '', stats);
    if (this.root !== null) this.walk(this.root, false);
  }

  /**
   * Walks the whole tree again: directories the new rules un-ignore get watched, those they now
   * ignore are released. What was already there is not reported (it did not change; the engine
   * rescans after a rules change).
   */
  protected async followRules(): Promise<void> {
    if (this.closed) return;
    if (this.root === null) {
      // The root's watch failed at start (say ENOSPC): a rules change is a chance to retry.
      if (!this.rootMissingReported) await this.watchTree();
      return;
    }
    this.walk(this.root, false);
  }

  protected async release(): Promise<void> {
    if (this.root !== null) this.openWatchers -= closeSubtree(this.root);
    this.root = null;
  }

  private attach(parent: WatchedDirectory | null, name: string, absolutePath: string, relativePath: string, stats: Stats): WatchedDirectory | null {
    let fsWatcher: FSWatcher;
    try {
      fsWatcher = watch(absolutePath, { persistent: true });
    } catch (error) {
      this.reportFailure(absolutePath, error);
      return null;
    }
    const directory: WatchedDirectory = { name, absolutePath, relativePath, parent, dev: stats.dev, ino: stats.ino, children: new Map(), fsWatcher };
    fsWatcher.on('change', (eventType: string, filename: string | Buffer | null) => this.onDirectoryEvent(directory, eventType, filename));
    fsWatcher.on('error', (error: unknown) => this.onWatcherError(directory, error));
    parent?.children.set(name, directory);
    this.openWatchers += 1;
    return directory;
  }

  /** Closes `directory` and everything beneath it and drops it from its parent. */
  private forget(directory: WatchedDirectory): void {
    this.openWatchers -= closeSubtree(directory);
    if (directory.parent?.children.get(directory.name) === directory) directory.parent.children.delete(directory.name);
  }

  /**
   * Watches every directory under `top` that is not pruned and releases those that are. With
   * `report`, reports every entry found: `top` arrived with contents (moved in, or filled right
   * after mkdir), and what was created before its watch was attached would otherwise be lost.
   * Each directory is watched before it is read, so an entry created in between is either read
   * here or reported by its own event (duplicates are fine: the engine re-checks the disk).
   */
  private walk(top: WatchedDirectory, report: boolean): void {
    const pending: WatchedDirectory[] = [top];
    for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
      for (const entry of this.readDirectory(directory)) {
        const child = this.visit(directory, entry, report);
        if (child !== null) pending.push(child);
      }
    }
  }

  /** One entry found by a walk; returns the directory to descend into, if any. */
  private visit(parent: WatchedDirectory, entry: Dirent, report: boolean): WatchedDirectory | null {
    const relativePath = childRelativePath(parent.relativePath, entry.name);
    const isDirectory = entry.isDirectory();
    const known = parent.children.get(entry.name);
    if (this.gate.isPruned(relativePath, isDirectory)) {
      if (known !== undefined) this.forget(known);
      return null;
    }
    if (report) this.gate.route({ type: isDirectory ? 'addDir' : 'add', path: relativePath });
    if (!isDirectory) return null;
    const absolutePath = path.join(parent.absolutePath, entry.name);
    const stats = lstatQuiet(absolutePath);
    if (stats?.isDirectory() !== true) return null;
    if (known !== undefined && known.fsWatcher !== null && isSameDirectory(known, stats)) return known;
    if (known !== undefined) this.forget(known);
    return this.attach(parent, entry.name, absolutePath, relativePath, stats);
  }

  private readDirectory(directory: WatchedDirectory): Dirent[] {
    try {
      return readdirSync(directory.absolutePath, { withFileTypes: true });
    } catch (error) {
      this.reportFailure(directory.absolutePath, error);
      return [];
    }
  }

  private onDirectoryEvent(directory: WatchedDirectory, eventType: string, filename: string | Buffer | null): void {
    if (this.closed || directory.fsWatcher === null) return;
    try {
      if (typeof filename !== 'string') {
        if (directory.parent !== null) this.gate.route({ type: 'addDir', path: directory.relativePath });
      } else if (eventType === 'rename' && filename === directory.name && !isStillThere(directory)) {
        this.onDirectoryGone(directory);
      } else {
        this.onEntryEvent(directory, filename, eventType === 'change');
      }
    } catch (error) {
      // A bug here must not throw out of an fs.watch callback: that would end the process.
      this.emitError(asWatcherError(error, 'WATCH_FAILED'));
    }
  }

  /**
   * The event named the directory itself and it is gone or replaced: stop watching it and its
   * subtree now. It stays in its parent's map (closed), so that the parent's own event for the
   * name is still reported as `unlinkDir`.
   */
  private onDirectoryGone(directory: WatchedDirectory): void {
    this.openWatchers -= closeSubtree(directory);
    if (directory.parent !== null) return;
    this.root = null;
    this.reportRootMissing();
  }

  private onEntryEvent(directory: WatchedDirectory, name: string, isChange: boolean): void {
    const relativePath = childRelativePath(directory.relativePath, name);
    // The state dir is the busiest path of all: no lstat for it.
    if (isUnderAny(relativePath, this.options.ignoredPaths)) return;
    const absolutePath = path.join(directory.absolutePath, name);
    const stats = lstatQuiet(absolutePath);
    const known = directory.children.get(name);
    if (stats === undefined) {
      if (known !== undefined) {
        this.forget(known);
        this.gate.route({ type: 'unlinkDir', path: relativePath });
      } else if (!isChange) {
        // Without state per entry a vanished ignored directory is reported as `unlink`, which a
        // `dir/` rule does not match; harmless, since the engine finds nothing there.
        this.gate.route({ type: 'unlink', path: relativePath });
      }
      // A 'change' of an entry deleted since: its deletion is an event of its own.
      return;
    }
    if (!stats.isDirectory()) {
      // A directory replaced by a file or a symlink (never followed: a link to a directory is a file here).
      if (known !== undefined) this.forget(known);
      this.gate.route({ type: isChange ? 'change' : 'add', path: relativePath });
      return;
    }
    const watched = known !== undefined && known.fsWatcher !== null && isSameDirectory(known, stats);
    if (known !== undefined && !watched) this.forget(known);
    this.gate.route({ type: 'addDir', path: relativePath });
    if (watched || this.gate.isPruned(relativePath, true)) return;
    const child = this.attach(directory, name, absolutePath, relativePath, stats);
    if (child !== null) this.walk(child, true);
  }

  /** fs.watch reported an error for this handle: it is of no further use. */
  private onWatcherError(directory: WatchedDirectory, error: unknown): void {
    if (this.closed) return;
    if (directory.parent === null) {
      this.openWatchers -= closeSubtree(directory);
      this.root = null;
    } else {
      this.forget(directory);
    }
    this.reportFailure(directory.absolutePath, error);
  }

  /** WATCH_FAILED once per cause; the other directories stay watched. */
  private reportFailure(absolutePath: string, error: unknown): void {
    if (isVanished(error)) return;
    const code = errorCode(error);
    if (this.failuresReported.has(code)) return;
    this.failuresReported.add(code);
    this.emitError(new WatcherError('WATCH_FAILED', describeWatchFailure(absolutePath, error), { cause: error }));
  }
}

function isStillThere(directory: WatchedDirectory): boolean {
  const stats = lstatQuiet(directory.absolutePath);
  return stats !== undefined && isSameDirectory(directory, stats);
}
