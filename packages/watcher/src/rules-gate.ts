import { asWatcherError, WatcherError } from './errors';
import { IgnoreRules } from './ignore-rules';
import { isUnderAny } from './relative-path';
import { isDirectoryEvent } from './watch-event';
import type { WatchEventType } from './watch-event';
import type { NormalisedWatcherOptions } from './watcher-options';

/** Events that arrive while `.syncignore` is being reloaded wait at most this many deep. */
export const bufferedEventsMax = 100_000;

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
  private buffered: PathEvent[] = [];

  constructor(
    private readonly options: Pick<NormalisedWatcherOptions, 'ignoredPaths' | 'ignoreFileName'>,
    private readonly hooks: RulesGateHooks,
    private readonly loadRules: LoadRules = IgnoreRules.load,
    private readonly eventsBufferedMax: number = bufferedEventsMax,
  ) {}

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
    if (event.path === this.options.ignoreFileName && !isDirectoryEvent(event.type)) this.scheduleReload();
    if (this.reloadsPending === 0) {
      this.deliver(event);
      return;
    }
    if (this.buffered.length >= this.eventsBufferedMax) {
      this.buffered = [];
      this.hooks.error(new WatcherError('EVENTS_DROPPED', `more than ${this.eventsBufferedMax} events during an ignore-file reload; rescan the folder`));
    }
    this.buffered.push(event);
  }

  /** Drops buffered events and ignores everything from now on. */
  stop(): void {
    this.stopped = true;
    this.buffered = [];
  }

  private deliver(event: PathEvent): void {
    if (this.isExcluded(event)) return;
    this.hooks.deliver(event);
  }

  private isExcluded({ type, path: relativePath }: PathEvent): boolean {
    if (isUnderAny(relativePath, this.options.ignoredPaths)) return true;
    return this.current.isIgnored(relativePath, isDirectoryEvent(type));
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
        if (this.reloadsPending === 0) this.flushBuffered();
      });
  }

  /** New rules apply to the next event; if they changed, the watcher follows them first. */
  private async reload(): Promise<void> {
    if (this.stopped) return;
    let next: IgnoreRules;
    try {
      next = await this.loadRules(this.root, this.options.ignoreFileName);
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
