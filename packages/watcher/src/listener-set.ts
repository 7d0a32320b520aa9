import { WatcherError } from './errors';
import type { WatchEvent, WatchListener } from './watch-event';

interface Subscription {
  readonly listener: WatchListener;
}

/**
 * Delivers events to subscribers. A listener that throws must not starve the others or stop the
 * watcher, yet a bug should not vanish either, so the failure becomes a process warning.
 */
export class ListenerSet {
  // Wrapper objects, so the same function subscribed twice gets two independent subscriptions.
  private readonly subscriptions = new Set<Subscription>();

  get size(): number {
    return this.subscriptions.size;
  }

  add(listener: WatchListener): () => void {
    const subscription: Subscription = { listener };
    this.subscriptions.add(subscription);
    return () => {
      this.subscriptions.delete(subscription);
    };
  }

  emit(event: WatchEvent): void {
    for (const subscription of [...this.subscriptions]) {
      // Unsubscribed by an earlier listener during this very dispatch.
      if (!this.subscriptions.has(subscription)) continue;
      try {
        subscription.listener(event);
      } catch (error) {
        process.emitWarning(new WatcherError('LISTENER_FAILED', `a watch listener threw on '${event.type}'`, { cause: error }));
      }
    }
  }

  clear(): void {
    this.subscriptions.clear();
  }
}
