import { describe, expect, it, vi } from 'vitest';
import { WatcherError } from '../errors';
import type { WatchEvent } from '../watch-event';
import { ManualWatcher } from './index';

describe('ManualWatcher', () => {
  it('emits ready once on start and then whatever the test emits', async () => {
    const watcher = new ManualWatcher();
    const seen: WatchEvent[] = [];
    watcher.on((event) => seen.push(event));
    await watcher.start();
    await watcher.start();
    watcher.emit({ type: 'add', path: 'a.txt' });
    const error = new WatcherError('WATCH_FAILED', 'simulated');
    watcher.emit({ type: 'error', error });
    expect(watcher.started).toBe(true);
    expect(seen).toEqual([{ type: 'ready' }, { type: 'add', path: 'a.txt' }, { type: 'error', error }]);
  });

  it('stops delivering after unsubscribe and after close, and rejects a later start', async () => {
    const watcher = new ManualWatcher();
    const kept = vi.fn();
    const dropped = vi.fn();
    watcher.on(kept);
    const unsubscribe = watcher.on(dropped);
    expect(watcher.listenerCount).toBe(2);
    unsubscribe();
    watcher.emit({ type: 'change', path: 'b' });
    await watcher.close();
    await watcher.close();
    watcher.emit({ type: 'unlink', path: 'b' });
    expect(watcher.closed).toBe(true);
    expect(kept).toHaveBeenCalledTimes(1);
    expect(dropped).not.toHaveBeenCalled();
    await expect(watcher.start()).rejects.toMatchObject({ name: 'WatcherError', code: 'CLOSED' });
  });
});
