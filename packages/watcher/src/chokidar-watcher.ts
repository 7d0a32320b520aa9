import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { FSWatcher } from 'chokidar';
import type { ChokidarOptions } from 'chokidar';
import { isWatcherError, WatcherError } from './errors';
import { defaultIgnoreFileName, IgnoreRules } from './ignore-rules';
import { ListenerSet } from './listener-set';
import { isUnderAny, normaliseIgnoredPaths, toRelativePosix } from './relative-path';
import { TrailingChangeCheck } from './trailing-change';
import { isDirectoryEvent } from './watch-event';
import type { Watcher, WatchEvent, WatchEventType, WatchListener } from './watch-event';

export interface ChokidarWatcherOptions {
  /** Absolute folder to watch. */
  root: string;
  /** Relative POSIX paths never reported, with everything beneath them; '.sync' always is. */
  ignoredPaths?: string[];
  /** gitignore-syntax file in the root; default '.syncignore'. */
  ignoreFileName?: string;
  /** false (default): native events (inotify); a number: poll at that interval (bind mounts without events). */
  pollIntervalMs?: number | false;
}

interface NormalisedOptions {
  root: string;
  ignoredPaths: readonly string[];
  ignoreFileName: string;
  pollIntervalMs: number | false;
}

interface PathEvent {
  type: WatchEventType;
  path: string;
}

/** After a rules reload the previous chokidar instance keeps running this long (or this many polls). */
export const handoverMinMs = 1_000;
export const handoverPollIntervals = 4;

/** Events that arrive while `.syncignore` is being reloaded wait at most this many deep. */
export const bufferedEventsMax = 100_000;

const chokidarEventTypes: ReadonlySet<string> = new Set<WatchEventType>(['add', 'change', 'unlink', 'addDir', 'unlinkDir']);

/**
 * The real watcher, backed by chokidar. chokidar's own initial events are off: the engine walks
 * the tree itself once `start()` resolves, and watching is already in place by then.
 */
export class ChokidarWatcher implements Watcher {
  private readonly options: NormalisedOptions;
  private readonly listeners = new ListenerSet();
  private readonly fsWatchers = new Set<FSWatcher>();
  private readonly readyWaiters = new Set<(error: WatcherError) => void>();
  private readonly trailing = new TrailingChangeCheck((absolutePath, current) => this.onFsEvent('change', absolutePath, current));
  private rules = IgnoreRules.fromText('');
  private realRoot = '';
  private startPromise: Promise<void> | null = null;
  private closePromise: Promise<void> | null = null;
  private closed = false;
  private reloadChain: Promise<void> = Promise.resolve();
  private reloadsPending = 0;
  private buffered: PathEvent[] = [];
  private readonly handoverTimers = new Set<NodeJS.Timeout>();

  constructor(options: ChokidarWatcherOptions) {
    this.options = normaliseOptions(options);
  }

  start(): Promise<void> {
    this.startPromise ??= this.startOnce();
    return this.startPromise;
  }

  on(listener: WatchListener): () => void {
    return this.listeners.add(listener);
  }

  close(): Promise<void> {
    this.closePromise ??= this.closeOnce();
    return this.closePromise;
  }

  private async startOnce(): Promise<void> {
    this.throwIfClosed();
    const root = await resolveRoot(this.options.root);
    const rules = await IgnoreRules.load(root, this.options.ignoreFileName);
    this.throwIfClosed();
    this.realRoot = root;
    this.rules = rules;
    await this.openFsWatcher();
    this.listeners.emit({ type: 'ready' });
  }

  private async closeOnce(): Promise<void> {
    this.closed = true;
    this.trailing.stop();
    for (const timer of this.handoverTimers) clearTimeout(timer);
    this.handoverTimers.clear();
    this.buffered = [];
    this.listeners.clear();
    const closedError = new WatcherError('CLOSED', 'the watcher was closed before its initial crawl finished');
    for (const reject of this.readyWaiters) reject(closedError);
    this.readyWaiters.clear();
    const fsWatchers = [...this.fsWatchers];
    this.fsWatchers.clear();
    await Promise.all(fsWatchers.map((fsWatcher) => fsWatcher.close()));
  }

  private throwIfClosed(): void {
    if (this.closed) throw new WatcherError('CLOSED', 'the watcher is closed');
  }

  /** Opens one chokidar instance on the root and resolves once its crawl is done. */
  private openFsWatcher(): Promise<FSWatcher> {
    this.throwIfClosed();
    const fsWatcher = new FSWatcher(this.chokidarOptions());
    this.fsWatchers.add(fsWatcher);
    fsWatcher.on('all', (type, absolutePath, stats) => {
      if (chokidarEventTypes.has(type)) this.onFsEvent(type as WatchEventType, absolutePath, stats);
    });
    fsWatcher.on('error', (error) => this.onFsError(error));
    return new Promise<FSWatcher>((resolve, reject) => {
      this.readyWaiters.add(reject);
      fsWatcher.once('ready', () => {
        this.readyWaiters.delete(reject);
        resolve(fsWatcher);
      });
      fsWatcher.add(this.realRoot);
    });
  }

  private chokidarOptions(): ChokidarOptions {
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
      ignored: (absolutePath: string, stats?: Stats) => this.isPruned(absolutePath, stats),
    };
  }

  /**
   * chokidar's `ignored`: paths it should not even watch. Directory-ness comes from `stats`; when
   * chokidar has none yet it asks again with stats before descending into a directory, so "not a
   * directory" is the safe default (a `build/` rule must not hide a file named `build`).
   */
  private isPruned(absolutePath: string, stats: Stats | undefined): boolean {
    const relativePath = toRelativePosix(this.realRoot, absolutePath);
    if (relativePath === null) return false;
    if (isUnderAny(relativePath, this.options.ignoredPaths)) return true;
    // The rules file must stay watched even if it matches its own rules: it drives reloads.
    if (relativePath === this.options.ignoreFileName) return false;
    return this.rules.isIgnored(relativePath, stats?.isDirectory() ?? false);
  }

  private onFsEvent(type: WatchEventType, absolutePath: string, stats: Stats | undefined): void {
    if (this.closed) return;
    const relativePath = toRelativePosix(this.realRoot, absolutePath);
    if (relativePath === null) {
      if (type === 'unlinkDir' && path.resolve(absolutePath) === this.realRoot) {
        this.emitError(new WatcherError('ROOT_MISSING', `the watched folder ${this.realRoot} was removed`));
      }
      return;
    }
    if (type === 'change') this.trailing.noteChange(absolutePath, stats);
    if (type === 'unlink') this.trailing.cancel(absolutePath);
    if (relativePath === this.options.ignoreFileName && !isDirectoryEvent(type)) this.scheduleRulesReload();
    this.route({ type, path: relativePath });
  }

  private onFsError(error: unknown): void {
    if (this.closed) return;
    const detail = error instanceof Error ? error.message : String(error);
    this.emitError(new WatcherError('WATCH_FAILED', detail, { cause: error }));
  }

  /** While rules are being reloaded, events wait so that they are judged by the new rules. */
  private route(event: PathEvent): void {
    if (this.reloadsPending === 0) {
      this.deliver(event);
      return;
    }
    if (this.buffered.length >= bufferedEventsMax) {
      this.buffered = [];
      this.emitError(new WatcherError('EVENTS_DROPPED', `more than ${bufferedEventsMax} events during an ignore-file reload; rescan the folder`));
    }
    this.buffered.push(event);
  }

  private deliver(event: PathEvent): void {
    if (this.isExcluded(event)) return;
    this.listeners.emit(event);
  }

  private isExcluded({ type, path: relativePath }: PathEvent): boolean {
    if (isUnderAny(relativePath, this.options.ignoredPaths)) return true;
    return this.rules.isIgnored(relativePath, isDirectoryEvent(type));
  }

  private scheduleRulesReload(): void {
    this.reloadsPending += 1;
    this.reloadChain = this.reloadChain
      .then(() => this.reloadRules())
      .catch((error: unknown) => this.emitError(asWatcherError(error, 'WATCH_FAILED')))
      .finally(() => {
        this.reloadsPending -= 1;
        if (this.reloadsPending === 0) this.flushBuffered();
      });
  }

  private flushBuffered(): void {
    const events = this.buffered;
    this.buffered = [];
    for (const event of events) {
      if (this.closed) return;
      this.deliver(event);
    }
  }

  /**
   * New rules apply to the next event. If they changed, a fresh chokidar instance replaces the old
   * one: the old one never descended into directories the old rules ignored, so paths the new
   * rules un-ignore would otherwise stay unwatched. The new instance is watching before buffered
   * events (among them the ignore file's own event) are delivered. Around the swap an event may
   * be reported twice; consumers re-check the disk anyway.
   */
  private async reloadRules(): Promise<void> {
    if (this.closed) return;
    let next: IgnoreRules;
    try {
      next = await IgnoreRules.load(this.realRoot, this.options.ignoreFileName);
    } catch (error) {
      this.emitError(asWatcherError(error, 'IGNORE_FILE_UNREADABLE'));
      return;
    }
    if (this.closed || next.text === this.rules.text) return;
    this.rules = next;
    await this.replaceFsWatcher();
  }

  private async replaceFsWatcher(): Promise<void> {
    const previous = [...this.fsWatchers];
    try {
      await this.openFsWatcher();
    } catch (error) {
      if (!this.closed) this.emitError(asWatcherError(error, 'WATCH_FAILED'));
      return;
    }
    // chokidar reads a directory before it watches it, so something created in between is seen
    // only by the previous instance, which may still be stat-ing it; it retires a little later.
    const timer = setTimeout(() => {
      this.handoverTimers.delete(timer);
      void this.retire(previous);
    }, Math.max(handoverMinMs, handoverPollIntervals * (this.options.pollIntervalMs || 0)));
    timer.unref();
    this.handoverTimers.add(timer);
  }

  private async retire(fsWatchers: readonly FSWatcher[]): Promise<void> {
    for (const fsWatcher of fsWatchers) this.fsWatchers.delete(fsWatcher);
    await Promise.all(fsWatchers.map((fsWatcher) => fsWatcher.close()));
  }

  private emitError(error: WatcherError): void {
    if (this.closed) return;
    const event: WatchEvent = { type: 'error', error };
    this.listeners.emit(event);
  }
}

function normaliseOptions(options: ChokidarWatcherOptions): NormalisedOptions {
  if (!path.isAbsolute(options.root)) {
    throw new WatcherError('INVALID_OPTIONS', `root must be an absolute path, got '${options.root}'`);
  }
  const ignoreFileName = options.ignoreFileName ?? defaultIgnoreFileName;
  if (ignoreFileName === '' || ignoreFileName === '.' || ignoreFileName === '..' || /[/\\]/.test(ignoreFileName)) {
    throw new WatcherError('INVALID_OPTIONS', `ignoreFileName must be a plain file name, got '${ignoreFileName}'`);
  }
  const pollIntervalMs = options.pollIntervalMs ?? false;
  if (pollIntervalMs !== false && !(Number.isFinite(pollIntervalMs) && pollIntervalMs > 0)) {
    throw new WatcherError('INVALID_OPTIONS', `pollIntervalMs must be false or a positive number, got ${pollIntervalMs}`);
  }
  return {
    root: path.resolve(options.root),
    ignoredPaths: normaliseIgnoredPaths(options.ignoredPaths ?? []),
    ignoreFileName,
    pollIntervalMs,
  };
}

/** The root's real path: chokidar does not follow symlinks, so a symlinked root must be resolved. */
async function resolveRoot(root: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(root);
  } catch (error) {
    throw new WatcherError('ROOT_MISSING', `cannot resolve the watched folder ${root}`, { cause: error });
  }
  const stats = await stat(real).catch((error: unknown) => {
    throw new WatcherError('ROOT_MISSING', `cannot stat the watched folder ${real}`, { cause: error });
  });
  if (!stats.isDirectory()) throw new WatcherError('ROOT_NOT_DIRECTORY', `${root} is not a directory`);
  return real;
}

function asWatcherError(error: unknown, code: WatcherError['code']): WatcherError {
  if (isWatcherError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new WatcherError(code, detail, { cause: error });
}
