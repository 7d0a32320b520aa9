import { afterEach, describe, expect, it, vi } from 'vitest';
import { ListenerSet } from './listener-set';
import type { WatchEvent } from './watch-event';

const add: WatchEvent = { type: 'add', path: 'a.txt' };

describe('ListenerSet', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('delivers to every listener, even after one throws, and warns about the throw', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const listeners = new ListenerSet();
    const seen: string[] = [];
    listeners.add(() => {
      throw new Error('boom');
    });
    listeners.add((event) => seen.push(event.type));
    listeners.emit(add);
    listeners.emit({ type: 'ready' });
    expect(seen).toEqual(['add', 'ready']);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[0]?.[0]).toMatchObject({ name: 'WatcherError', code: 'LISTENER_FAILED', cause: new Error('boom') });
  });

  it('unsubscribes one subscription at a time, even of the same function', () => {
    const listeners = new ListenerSet();
    const listener = vi.fn();
    const first = listeners.add(listener);
    listeners.add(listener);
    first();
    first();
    listeners.emit(add);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listeners.size).toBe(1);
  });

  it('does not deliver to a listener removed earlier in the same dispatch', () => {
    const listeners = new ListenerSet();
    const late = vi.fn();
    let unsubscribeLate = (): void => undefined;
    listeners.add(() => unsubscribeLate());
    unsubscribeLate = listeners.add(late);
    listeners.emit(add);
    expect(late).not.toHaveBeenCalled();
  });

  it('delivers nothing after clear()', () => {
    const listeners = new ListenerSet();
    const listener = vi.fn();
    listeners.add(listener);
    listeners.clear();
    listeners.emit(add);
    expect(listener).not.toHaveBeenCalled();
  });
});
