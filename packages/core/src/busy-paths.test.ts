import { describe, expect, it } from 'vitest';
import { BusyPaths } from './busy-paths';

describe('BusyPaths', () => {
  it('tells its listeners once an awaited path is released, and only that once', () => {
    const busy = new BusyPaths();
    const released: string[] = [];
    busy.onReleased((path) => released.push(path));
    busy.add('a');
    busy.add('b');
    busy.awaitRelease('a');
    busy.awaitRelease('a');
    expect(busy.awaiting).toBe(1);
    busy.delete('b');
    expect(released).toEqual([]);
    busy.delete('a');
    expect(released).toEqual(['a']);
    expect(busy.has('a')).toBe(false);
    expect(busy.awaiting).toBe(0);
    busy.add('a');
    busy.delete('a');
    expect(released).toEqual(['a']);
  });

  it('awaits no path that is not busy: nothing would ever release it', () => {
    const busy = new BusyPaths();
    const released: string[] = [];
    busy.onReleased((path) => released.push(path));
    busy.awaitRelease('a');
    expect(busy.awaiting).toBe(0);
    busy.add('a');
    busy.delete('a');
    expect(released).toEqual([]);
  });
});
