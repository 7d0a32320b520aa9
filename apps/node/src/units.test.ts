import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from './units';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.50 KiB'],
    [10 * 1024 * 1024 + 1, '10.0 MiB'],
    [150 * 1024 ** 3, '150 GiB'],
    [3 * 1024 ** 5, '3072 TiB'],
  ])('%d → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatDuration', () => {
  it.each([
    [0.4, '0 ms'],
    [42, '42 ms'],
    [1234, '1.2 s'],
    [59_949, '59.9 s'],
    [125_000, '2m05s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
