import { describe, expect, it } from 'vitest';
import { ManualClock, SeededRandom } from './index';

describe('ManualClock', () => {
  it('fires timers in time order only when advanced past them', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('late'), 50);
    clock.setTimeout(() => fired.push('early'), 10);
    const cancelled = clock.setTimeout(() => fired.push('cancelled'), 20);
    clock.clearTimeout(cancelled);
    clock.advance(5);
    expect(fired).toEqual([]);
    clock.advance(100);
    expect(fired).toEqual(['early', 'late']);
    expect(clock.now()).toBe(1105);
  });
});

describe('SeededRandom', () => {
  it('replays the same sequence for the same seed and differs across seeds', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const seqA = Array.from({ length: 5 }, () => a.float());
    expect(Array.from({ length: 5 }, () => b.float())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.float())).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new SeededRandom(1).id(9)).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });
});
