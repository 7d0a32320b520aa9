import { describe, expect, it } from 'vitest';
import { ExpiringMap } from './expiring-map';

describe('ExpiringMap', () => {
  it('counts an entry until its time is up, and a key set again once, from its new time', () => {
    const map = new ExpiringMap<string, number>(5_000);
    map.set('a', 1, 4_000, 0);
    map.set('b', 2, 4_000, 3_000);
    map.set('b', 3, 4_000, 3_500);
    expect(map.totalWeight(4_999)).toBe(8_000);
    expect(map.get('b', 4_999)).toBe(3);
    expect(map.get('a', 5_000)).toBeUndefined();
    expect(map.totalWeight(5_000)).toBe(4_000);
    expect(map.has('a')).toBe(false);
    expect(map.totalWeight(8_500)).toBe(0);
  });

  it('drops the oldest entries once the total is over its bound, and frees a deleted one at once', () => {
    const map = new ExpiringMap<number, string>(60_000, 10);
    map.set(1, 'one', 4, 0);
    map.set(2, 'two', 4, 1);
    map.set(3, 'three', 4, 2);
    expect(map.has(1)).toBe(false);
    expect(map.get(2, 3)).toBe('two');
    expect(map.totalWeight(3)).toBe(8);
    map.delete(2);
    map.delete(2);
    expect(map.totalWeight(3)).toBe(4);
  });
});
