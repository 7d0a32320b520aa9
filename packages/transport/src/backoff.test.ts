import { describe, expect, it } from 'vitest';
import { backoffDelay, defaultBackoff } from './backoff';

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap', () => {
    const noJitter = { ...defaultBackoff, jitter: 0 };
    expect([0, 1, 2, 3, 10, 100].map((n) => backoffDelay(n, noJitter, Math.random))).toEqual([100, 200, 400, 800, 5000, 5000]);
  });

  it('spreads delays by the jitter share around the base', () => {
    const options = { initialMs: 1000, maxMs: 1000, jitter: 0.2 };
    expect(backoffDelay(0, options, () => 0)).toBe(800);
    expect(backoffDelay(0, options, () => 0.999999)).toBe(1200);
  });
});
