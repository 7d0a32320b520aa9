import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KiB, MiB, blockSizeFor, blockSizeMaxBytes, blockSizeMinBytes, defaultLimits } from './limits';

describe('blockSizeFor', () => {
  // Goal: 128 KiB, doubled while a file would have more than 2,048 blocks, at most 16 MiB (DESIGN.md).
  it.each([
    [0, 128 * KiB],
    [1, 128 * KiB],
    [256 * MiB, 128 * KiB],
    [256 * MiB + 1, 256 * KiB],
    [512 * MiB, 256 * KiB],
    [512 * MiB + 1, 512 * KiB],
    [32 * 1024 * MiB, 16 * MiB],
    [Number.MAX_SAFE_INTEGER, 16 * MiB],
  ])('%i bytes → %i', (fileBytes, expected) => {
    expect(blockSizeFor(fileBytes)).toBe(expected);
  });

  it('is a power of two within bounds, monotonic, and gives at most 2,048 blocks below the cap (property)', () => {
    const bytes = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    fc.assert(
      fc.property(bytes, bytes, (a, b) => {
        const size = blockSizeFor(a);
        expect(size).toBeGreaterThanOrEqual(blockSizeMinBytes);
        expect(size).toBeLessThanOrEqual(blockSizeMaxBytes);
        expect(Number.isInteger(Math.log2(size))).toBe(true);
        if (size < blockSizeMaxBytes) expect(Math.ceil(a / size)).toBeLessThanOrEqual(2048);
        if (a <= b) expect(blockSizeFor(a)).toBeLessThanOrEqual(blockSizeFor(b));
      }),
    );
  });

  it('the largest block fits in a block frame and a frame', () => {
    expect(blockSizeMaxBytes).toBeLessThanOrEqual(defaultLimits.blockBytesMax);
    expect(defaultLimits.blockBytesMax).toBeLessThan(defaultLimits.frameBytesMax);
    expect(defaultLimits.batchBytesMax).toBeLessThan(defaultLimits.frameBytesMax);
    expect(Object.isFrozen(defaultLimits)).toBe(true);
  });
});
