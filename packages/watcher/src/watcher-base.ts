import { WatcherError } from './errors';
import { IgnoreRules } from './ignore-rules';
import { ListenerSet } from './listener-set';
import { resolveRoot } from './resolve-root';
import { ignoreFileSettleMs, RulesGate } from './rules-gate';
import type { Watcher, WatchEvent, WatchListener } from './watch-event';
import { normaliseWatcherOptions } from './watcher-options';
import type { NormalisedWatcherOptions, WatcherOptions } from './watcher-options';

/**
 * What every watcher shares: options, listeners, the start/close life cycle and the rules gate.
 * A subclass only attaches to the OS: `watchTree`, `followRules`, `release`.
 */
export abstract class WatcherBase implements Watcher {
  protected readonly options: NormalisedWatcherOptions;
  protected readonly gate: RulesGate;
  /** The root's real path, set by `start()` before `watchTree()` runs. */
  protected realRoot = '';
  protected closed = false;
  protected rootMissingReported = false;
  private readonly listeners = new ListenerSet();
  private startPromise: Promise<void> | null = null;
  private closePromise: Promise<void> | null = null;

  constructor(options: WatcherOptions) {
    this.options = normaliseWatcherOptions(options);
    this.gate = new RulesGate(this.options, {
      deliver: (event) => {
        if (!this.closed) this.listeners.emit(event);
      },
      error: (error) => this.emitError(error),
      rulesChanged: () => this.followRules(),
    }, {
      // A poll may see the file half-saved; its next event is one interval later.
      settleMs: ignoreFileSettleMs + (this.options.pollIntervalMs || 0),
    });
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

  /** Watches the tree under `realRoot`; resolves once watching is in place (no initial events). */
  protected abstract watchTree(): Promise<void>;

  /** The gate's rules changed: watch what they un-ignore. */
  protected abstract followRules(): Promise<void>;

  /** Releases every OS handle; `closed` is already true. */
  protected abstract release(): Promise<void>;

  protected throwIfClosed(): void {
    if (this.closed) throw new WatcherError('CLOSED', 'the watcher is closed');
  }

  protected emitError(error: WatcherError): void {
    if (this.closed) return;
    const event: WatchEvent = { type: 'error', error };
    this.listeners.emit(event);
  }

  /** The root was removed or moved away: reported once, however many ways it is noticed. */
  protected reportRootMissing(): void {
    if (this.rootMissingReported) return;
    this.rootMissingReported = true;
    this.emitError(new WatcherError('ROOT_MISSING', `the watched folder ${this.realRoot} was removed`));
  }

  private async startOnce(): Promise<void> {
    this.throwIfClosed();
    const root = await resolveRoot(this.options.root);
    const rules = await IgnoreRules.load(root, this.options.ignoreFileName);
    this.throwIfClosed();
    this.realRoot = root;
    this.gate.begin(root, rules);
    await this.watchTree();
    this.throwIfClosed();
    this.listeners.emit({ type: 'ready' });
  }

  private async closeOnce(): Promise<void> {
    this.closed = true;
    this.gate.stop();
    this.listeners.clear();
    await this.release();
  }
}
