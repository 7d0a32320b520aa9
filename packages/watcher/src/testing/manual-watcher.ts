import { WatcherError } from '../errors';
import { ListenerSet } from '../listener-set';
import type { Watcher, WatchEvent, WatchListener } from '../watch-event';

/**
 * A watcher driven by hand, for the engine's tests: `emit()` delivers an event to the listeners
 * exactly as `ChokidarWatcher` would (a throwing listener does not stop the others).
 */
export class ManualWatcher implements Watcher {
  private readonly listeners = new ListenerSet();
  private startedFlag = false;
  private closedFlag = false;

  get started(): boolean {
    return this.startedFlag;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Resolves at once and emits 'ready' (once, however often it is called). */
  start(): Promise<void> {
    if (this.closedFlag) return Promise.reject(new WatcherError('CLOSED', 'the watcher is closed'));
    if (!this.startedFlag) {
      this.startedFlag = true;
      this.listeners.emit({ type: 'ready' });
    }
    return Promise.resolve();
  }

  on(listener: WatchListener): () => void {
    return this.listeners.add(listener);
  }

  /** Delivers `event`; after `close()` nothing is delivered, as with the real watcher. */
  emit(event: WatchEvent): void {
    if (this.closedFlag) return;
    this.listeners.emit(event);
  }

  close(): Promise<void> {
    this.closedFlag = true;
    this.listeners.clear();
    return Promise.resolve();
  }
}
