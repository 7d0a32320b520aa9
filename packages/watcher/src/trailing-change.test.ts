import type { Stats } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sameShape, TrailingChangeCheck } from './trailing-change';
import type { FileShape } from './trailing-change';

const delayMs = 75;

function shape(overrides: Partial<FileShape> = {}): Stats {
  return { mtimeMs: 1_000, ctimeMs: 1_000, size: 10, ino: 7, ...overrides } as Stats;
}

describe('TrailingChangeCheck', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(onDisk: () => Stats | Error): { check: TrailingChangeCheck; missed: string[] } {
    const missed: string[] = [];
    const statFile = async (): Promise<Stats> => {
      const result = onDisk();
      if (result instanceof Error) throw result;
      return result;
    };
    const check = new TrailingChangeCheck((absolutePath) => missed.push(absolutePath), delayMs, statFile);
    return { check, missed };
  }

  it('reports a change the file went through after the reported one', async () => {
    const { check, missed } = setup(() => shape({ mtimeMs: 1_020, size: 12 }));
    check.noteChange('/r/a', shape());
    await vi.advanceTimersByTimeAsync(delayMs - 1);
    expect(missed).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(missed).toEqual(['/r/a']);
    expect(check.pending).toBe(0);
  });

  it('stays quiet when the file is as reported, or gone', async () => {
    let onDisk: Stats | Error = shape();
    const { check, missed } = setup(() => onDisk);
    check.noteChange('/r/a', shape());
    await vi.advanceTimersByTimeAsync(delayMs);
    onDisk = Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    check.noteChange('/r/a', shape());
    await vi.advanceTimersByTimeAsync(delayMs);
    expect(missed).toEqual([]);
  });

  it('restarts the wait on every reported change and reports when stats were unknown', async () => {
    const { check, missed } = setup(() => shape());
    check.noteChange('/r/a', undefined);
    await vi.advanceTimersByTimeAsync(delayMs - 10);
    check.noteChange('/r/a', undefined);
    await vi.advanceTimersByTimeAsync(delayMs - 10);
    expect(missed).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    expect(missed).toEqual(['/r/a']);
  });

  it('forgets cancelled paths and everything after stop()', async () => {
    const { check, missed } = setup(() => shape({ size: 99 }));
    check.noteChange('/r/a', shape());
    check.noteChange('/r/b', shape());
    check.cancel('/r/a');
    check.stop();
    check.noteChange('/r/c', shape());
    await vi.advanceTimersByTimeAsync(delayMs * 2);
    expect(missed).toEqual([]);
    expect(check.pending).toBe(0);
  });

  it('compares mtime, ctime, size and inode', () => {
    expect(sameShape(shape(), shape())).toBe(true);
    for (const change of [{ mtimeMs: 2 }, { ctimeMs: 2 }, { size: 2 }, { ino: 2 }]) expect(sameShape(shape(), shape(change))).toBe(false);
  });
});
