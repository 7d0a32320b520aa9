import { asWatcherError, WatcherError } from './errors';
import { IgnoreRules } from './ignore-rules';
import { isUnderAny } from './relative-path';
import { isDirectoryEvent } from './watch-event';
import type { WatchEventType } from './watch-event';
import type { NormalisedWatcherOptions } from './watcher-options';

/** Events that arrive while `.syncignore` is being reloaded wait at most this many deep. */
export const bufferedEventsMax = 100_000;

/**
 * The ignore file is read once it has had no event for this long. A save in place truncates the
 * file and then writes it, with an event for each: read at the first, it would be empty, and the
 * events held meanwhile would be judged by no rules at all.
 */
export const ignoreFileSettleMs = 50;

/** One-shot timers, injectable so that tests decide when the ignore file has settled. */
export interface GateTimers {
  set: (callback: () => void, ms: number) => unknown;
  clear: (handle: unknown) => void;
}

const realTimers: GateTimers = {
  set: (callback, ms) => setTimeout(callback, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface RulesGateSettings {
  loadRules: LoadRules;
  eventsBufferedMax: number;
  /** Quiet time before the ignore file is read (`ignoreFileSettleMs`; more when polling). */
  settleMs: number;
  timers: GateTimers;
}

export interface PathEvent {
  type: WatchEventType;
  path: string;
}

export type LoadRules = (root: string, fileName: string) => Promise<IgnoreRules>;

export interface RulesGateHooks {
  /** An event that passed the rules, for the listeners. */
  deliver: (event: PathEvent) => void;
  error: (error: WatcherError) => void;
  /**
   * The rules changed: the watcher starts watching what they un-ignore. Buffered events are held
   * until this resolves, so nothing created meanwhile goes unwatched and unreported.
   */
  rulesChanged: () => Promise<void>;
}

/**
 * Decides what a watcher reports and watches, from `ignoredPaths` and the ignore file; reloads
 * the ignore file when an event names it. Shared by every watcher so that they agree exactly.
 */
export class RulesGate {
  private current = IgnoreRules.fromText('');
  private root = '';
  private stopped = false;
  private reloadChain: Promise<void> = Promise.resolve();
  private reloadsPending = 0;
  /** The timer of a reload waiting for the ignore file to settle, if any. */
  private settling: unknown = null;
  private buffered: PathEvent[] = [];
  private readonly settings: RulesGateSettings;

  constructor(
    private readonly options: Pick<NormalisedWatcherOptions, 'ignoredPaths' | 'ignoreFileName'>,
    private readonly hooks: RulesGateHooks,
    settings: Partial<RulesGateSettings> = {},
  ) {
    this.settings = { loadRules: IgnoreRules.load, eventsBufferedMax: bufferedEventsMax, settleMs: ignoreFileSettleMs, timers: realTimers, ...settings };
  }

  get rules(): IgnoreRules {
    return this.current;
  }

  /** The real root and the rules loaded from it at start. */
  begin(root: string, rules: IgnoreRules): void {
    this.root = root;
    this.current = rules;
  }

  /**
   * Paths not even to watch or walk. "Not a directory" is the safe default when unknown: a
   * `build/` rule must not hide a file named `build`.
   */
  isPruned(relativePath: string, isDirectory: boolean): boolean {
    if (isUnderAny(relativePath, this.options.ignoredPaths)) return true;
    // The rules file must stay watched even if it matches its own rules: it drives reloads.
    if (relativePath === this.options.ignoreFileName) return false;
    return this.current.isIgnored(relativePath, isDirectory);
  }

  /**
   * Reports `event` unless the rules exclude it. An event for the ignore file starts a reload;
   * while one is pending, events wait so that they are judged by the new rules.
   */
  route(event: PathEvent): void {
    if (this.stopped) return;
    if (event.path === this.options.ignoreFileName && !isDirectoryEvent(event.type)) this.settleThenReload();
    if (!this.isReloading()) {
      this.deliver(event);
      return;
    }
    const { eventsBufferedMax } = this.settings;
    if (this.buffered.length >= eventsBufferedMax) {
      this.buffered = [];
      this.hooks.error(new WatcherError('EVENTS_DROPPED', `more than ${eventsBufferedMax} events during an ignore-file reload; rescan the folder`));
    }
    this.buffered.push(event);
  }

  /** Drops buffered events and ignores everything from now on. */
  stop(): void {
    this.stopped = true;
    this.buffered = [];
    if (this.settling !== null) this.settings.timers.clear(this.settling);
    this.settling = null;
  }

  private isReloading(): boolean {
    return this.reloadsPending > 0 || this.settling !== null;
  }

  private deliver(event: PathEvent): void {
    if (this.isExcluded(event)) return;
    this.hooks.deliver(event);
  }

  private isExcluded({ type, path: relativePath }: PathEvent): boolean {
    if (isUnderAny(relativePath, this.options.ignoredPaths)) return true;
    return this.current.isIgnored(relativePath, isDirectoryEvent(type));
  }

  /** Each event of the ignore file restarts the wait; events are held from the first one on. */
  private settleThenReload(): void {
    const { timers, settleMs } = this.settings;
    if (this.settling !== null) timers.clear(this.settling);
    this.settling = timers.set(() => {
      this.settling = null;
      this.scheduleReload();
    }, settleMs);
  }

  private scheduleReload(): void {
    this.reloadsPending += 1;
    this.reloadChain = this.reloadChain
      .then(() => this.reload())
      .catch((error: unknown) => {
        if (!this.stopped) this.hooks.error(asWatcherError(error, 'WATCH_FAILED'));
      })
      .finally(() => {
        this.reloadsPending -= 1;
        if (!this.isReloading()) this.flushBuffered();
      });
  }

  /** New rules apply to the next event; if they changed, the watcher follows them first. */
  private async reload(): Promise<void> {
    if (this.stopped) return;
    let next: IgnoreRules;
    try {
      next = await this.settings.loadRules(this.root, this.options.ignoreFileName);
    } catch (error) {
      if (!this.stopped) this.hooks.error(asWatcherError(error, 'IGNORE_FILE_UNREADABLE'));
      return;
    }
    if (this.stopped || next.text === this.current.text) return;
    this.current = next;
    await this.hooks.rulesChanged();
  }

  private flushBuffered(): void {
    const events = this.buffered;
    this.buffered = [];
    for (const event of events) {
      if (this.stopped) return;
      this.deliver(event);
    }
  }
}
