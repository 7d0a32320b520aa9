import type { Stats } from 'node:fs';
import path from 'node:path';
import { FSWatcher } from 'chokidar';
import type { ChokidarOptions } from 'chokidar';
import { CrawlBaseline } from './crawl-baseline';
import type { BaselineDrift } from './crawl-baseline';
import { asWatcherError, WatcherError } from './errors';
import { lstatQuiet } from './lstat-quiet';
import { NewDirectorySweep, newDirectorySweepDelayMs } from './new-directory-sweep';
import { toRelativePosix } from './relative-path';
import { TrailingChangeCheck } from './trailing-change';
import type { WatchEventType } from './watch-event';
import { WatcherBase } from './watcher-base';
import type { WatcherOptions } from './watcher-options';

export type ChokidarWatcherOptions = WatcherOptions;

/** After a rules reload the previous chokidar instance keeps running this long (or this many polls). */
export const handoverMinMs = 1_000;
export const handoverPollIntervals = 4;

const chokidarEventTypes: ReadonlySet<string> = new Set<WatchEventType>(['add', 'change', 'unlink', 'addDir', 'unlinkDir']);

/**
 * The watcher backed by chokidar: polling (bind mounts without events) and platforms other than
 * Linux. chokidar's own initial events are off: the engine walks the tree itself once `start()`
 * resolves, and watching is already in place by then.
 */
export class ChokidarWatcher extends WatcherBase {
  private readonly fsWatchers = new Set<FSWatcher>();
  private readonly readyWaiters = new Set<(error: WatcherError) => void>();
  private readonly trailing = new TrailingChangeCheck((absolutePath, current) => this.onFsEvent('change', absolutePath, current));
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sweep = new NewDirectorySweep({
    isKnown: (absoluteDir, name) => this.newest()?._getWatchedDir(absoluteDir).has(name) === true,
    isPruned: (absolutePath, isDirectory) => this.isPruned(absolutePath, isDirectory),
    // chokidar's own re-listing call: not an initial add, so it reports what it finds.
    adopt: (absolutePath) => this.newest()?.add(absolutePath, undefined, true),
  });

  constructor(options: ChokidarWatcherOptions) {
    super(options);
  }

  protected async watchTree(): Promise<void> {
    await this.openFsWatcher();
  }

  protected async release(): Promise<void> {
    this.trailing.stop();
    this.sweep.stop();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closedError = new WatcherError('CLOSED', 'the watcher was closed before its initial crawl finished');
    for (const reject of this.readyWaiters) reject(closedError);
    this.readyWaiters.clear();
    const fsWatchers = [...this.fsWatchers];
    this.fsWatchers.clear();
    await Promise.all(fsWatchers.map((fsWatcher) => fsWatcher.close()));
  }

  /** Opens one chokidar instance on the root and resolves once its crawl is done. */
  private openFsWatcher(): Promise<FSWatcher> {
    this.throwIfClosed();
    const { pollIntervalMs } = this.options;
    const baseline = pollIntervalMs === false ? undefined : new CrawlBaseline();
    const fsWatcher = new FSWatcher(this.chokidarOptions(baseline));
    this.fsWatchers.add(fsWatcher);
    fsWatcher.on('all', (type, absolutePath, stats) => {
      if (chokidarEventTypes.has(type)) this.onFsEvent(type as WatchEventType, absolutePath, stats);
    });
    fsWatcher.on('error', (error) => this.onFsError(error));
    fsWatcher.on('raw', (_eventType, name, details) => {
      if (pollIntervalMs === false) this.onRawEvent(name, details);
      else this.onRawPoll(name, details);
    });
    return new Promise<FSWatcher>((resolve, reject) => {
      this.readyWaiters.add(reject);
      fsWatcher.once('ready', () => {
        this.readyWaiters.delete(reject);
        resolve(fsWatcher);
        const directories = (): string[] => this.watchedDirectories(fsWatcher);
        void this.sweep.sweepAll(directories());
        if (pollIntervalMs === false || baseline === undefined) return;
        // When polling, fs.watchFile takes each entry's first stat in the background, after
        // 'ready': a change that lands before that stat is part of its baseline and is never
        // reported. One more look, once those stats are surely taken, finds it.
        baseline.seal();
        this.after(newDirectorySweepDelayMs + pollIntervalMs, () => {
          void this.sweep.sweepAll(directories());
          void baseline.recheck((drift) => this.onDrift(drift), () => this.closed);
        });
      });
      fsWatcher.add(this.realRoot);
    });
  }

  private chokidarOptions(baseline: CrawlBaseline | undefined): ChokidarOptions {
    const { pollIntervalMs } = this.options;
    const polling = pollIntervalMs === false ? { usePolling: false } : { usePolling: true, interval: pollIntervalMs, binaryInterval: pollIntervalMs };
    return {
      ...polling,
      persistent: true,
      ignoreInitial: true,
      // chokidar's atomic mode holds every unlink back ~100 ms to pair it with an add; the engine
      // debounces on its own and needs millisecond latency.
      atomic: false,
      followSymlinks: false,
      alwaysStat: false,
      ignored: (absolutePath: string, stats?: Stats) => {
        const pruned = this.isPruned(absolutePath, stats?.isDirectory() ?? false);
        // chokidar's crawl hands each entry's stats to this check just before watching it.
        if (!pruned) baseline?.note(absolutePath, stats);
        return pruned;
      },
    };
  }

  /**
   * chokidar's `ignored`: paths it should not even watch. Directory-ness comes from chokidar's
   * `stats`; when it has none yet it asks again with stats before descending into a directory.
   */
  private isPruned(absolutePath: string, isDirectory: boolean): boolean {
    const relativePath = toRelativePosix(this.realRoot, absolutePath);
    if (relativePath === null) return false;
    return this.gate.isPruned(relativePath, isDirectory);
  }

  /** The directories of the tree chokidar holds a listing of (it also keeps one of the root's parent). */
  private watchedDirectories(fsWatcher: FSWatcher): string[] {
    return Object.keys(fsWatcher.getWatched()).filter((absoluteDir) => absoluteDir === this.realRoot || toRelativePosix(this.realRoot, absoluteDir) !== null);
  }

  /** The instance that stays: during a handover after a rules reload, the one opened last. */
  private newest(): FSWatcher | undefined {
    let last: FSWatcher | undefined;
    for (const fsWatcher of this.fsWatchers) last = fsWatcher;
    return last;
  }

  private onFsEvent(type: WatchEventType, absolutePath: string, stats: Stats | undefined): void {
    if (this.closed) return;
    const relativePath = toRelativePosix(this.realRoot, absolutePath);
    if (relativePath === null) {
      if (type === 'unlinkDir' && path.resolve(absolutePath) === this.realRoot) this.reportRootMissing();
      return;
    }
    if (type === 'change') this.trailing.noteChange(absolutePath, stats);
    if (type === 'unlink') this.trailing.cancel(absolutePath);
    if (type === 'addDir') this.sweep.schedule(absolutePath);
    this.gate.route({ type, path: relativePath });
  }

  /**
   * chokidar notices a removed directory only when its last known child goes and a readdir then
   * fails; after `rm -r root` that readdir can run before the root's rmdir, and the root's removal
   * is never reported. The root's own fs.watch event (its own name, as for every watched
   * directory's deletion on Linux) is therefore checked directly.
   */
  private onRawEvent(name: string, details: unknown): void {
    if (this.closed || name !== path.basename(this.realRoot)) return;
    if (!isObject(details) || details.watchedPath !== this.realRoot) return;
    if (lstatQuiet(this.realRoot)?.isDirectory() === true) return;
    this.reportRootMissing();
  }

  /**
   * When polling, chokidar reports a file's change only if it grew, shrank or got a later mtime,
   * so an mtime set back (`touch -d`, `cp -p`, `rsync -t`) or a chmod alone went unreported. Its
   * raw event carries both stats: report what it dropped.
   */
  private onRawPoll(absolutePath: string, details: unknown): void {
    if (this.closed || !isObject(details)) return;
    const { curr, prev } = details;
    if (!isStats(curr) || !isStats(prev) || !curr.isFile() || !prev.isFile()) return;
    const reportedByChokidar = curr.size !== prev.size || curr.mtimeMs > prev.mtimeMs || curr.mtimeMs === 0;
    if (reportedByChokidar || (curr.mtimeMs === prev.mtimeMs && curr.mode === prev.mode)) return;
    this.onFsEvent('change', absolutePath, curr);
  }

  private onDrift(drift: BaselineDrift): void {
    this.onFsEvent(drift.type, drift.absolutePath, drift.type === 'change' ? drift.stats : undefined);
  }

  private onFsError(error: unknown): void {
    if (this.closed) return;
    this.emitError(asWatcherError(error, 'WATCH_FAILED'));
  }

  /**
   * The old instance never descended into directories the old rules ignored, so paths the new
   * rules un-ignore would stay unwatched: a fresh instance replaces it, and is watching before
   * buffered events (among them the ignore file's own) are delivered. Around the swap an event
   * may be reported twice; consumers re-check the disk anyway.
   */
  protected async followRules(): Promise<void> {
    const previous = [...this.fsWatchers];
    try {
      await this.openFsWatcher();
    } catch (error) {
      if (!this.closed) this.emitError(asWatcherError(error, 'WATCH_FAILED'));
      return;
    }
    // chokidar reads a directory before it watches it, so something created in between is seen
    // only by the previous instance, which may still be stat-ing it; it retires a little later.
    this.after(Math.max(handoverMinMs, handoverPollIntervals * (this.options.pollIntervalMs || 0)), () => void this.retire(previous));
  }

  private after(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    // Bookkeeping must never keep the process alive on its own.
    timer.unref();
    this.timers.add(timer);
  }

  private async retire(fsWatchers: readonly FSWatcher[]): Promise<void> {
    for (const fsWatcher of fsWatchers) this.fsWatchers.delete(fsWatcher);
    await Promise.all(fsWatchers.map((fsWatcher) => fsWatcher.close()));
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isStats(value: unknown): value is Stats {
  return isObject(value) && typeof value.isFile === 'function' && typeof value.mtimeMs === 'number';
}
