import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isUnderAny, normaliseIgnoredPaths, toRelativePosix } from './relative-path';

describe('toRelativePosix', () => {
  const root = path.resolve('/data/sync');

  it('gives POSIX paths relative to the root', () => {
    expect(toRelativePosix(root, path.join(root, 'a', 'b.txt'))).toBe('a/b.txt');
    expect(toRelativePosix(root, path.join(root, 'top'))).toBe('top');
  });

  it('gives null for the root itself and for paths outside it', () => {
    expect(toRelativePosix(root, root)).toBeNull();
    expect(toRelativePosix(root, path.resolve('/data'))).toBeNull();
    expect(toRelativePosix(root, path.resolve('/data/sync-other/x'))).toBeNull();
  });

  it('keeps names that merely start with two dots', () => {
    expect(toRelativePosix(root, path.join(root, '..hidden'))).toBe('..hidden');
  });

  it('normalises to NFC', () => {
    expect(toRelativePosix(root, path.join(root, 'Cafe\u0301.txt'))).toBe('Caf\u00e9.txt');
  });
});

describe('normaliseIgnoredPaths', () => {
  it('always contains .sync and strips ./ and trailing slashes', () => {
    expect(normaliseIgnoredPaths([])).toEqual(['.sync']);
    expect(normaliseIgnoredPaths(['./state/', 'a//b', '.sync'])).toEqual(['.sync', 'state', 'a/b']);
  });

  it('rejects paths outside the root', () => {
    for (const bad of ['', '.', '/abs', '..', '../x', 'a/../../x']) {
      expect(() => normaliseIgnoredPaths([bad])).toThrow(expect.objectContaining({ name: 'WatcherError', code: 'INVALID_OPTIONS' }));
    }
  });
});

describe('isUnderAny', () => {
  it('matches a path and everything beneath it, not siblings with the same prefix', () => {
    const ignored = ['.sync', 'a/state'];
    expect(isUnderAny('.sync', ignored)).toBe(true);
    expect(isUnderAny('.sync/tmp/x', ignored)).toBe(true);
    expect(isUnderAny('a/state/y', ignored)).toBe(true);
    expect(isUnderAny('.syncignore', ignored)).toBe(false);
    expect(isUnderAny('.sync-conflict.txt', ignored)).toBe(false);
    expect(isUnderAny('a/statement', ignored)).toBe(false);
  });
});
