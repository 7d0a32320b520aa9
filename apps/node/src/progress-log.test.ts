import { describe, expect, it } from 'vitest';
import { ProgressLog } from './progress-log';

function setup() {
  const lines: { message: string; fields: Record<string, unknown> | undefined }[] = [];
  const record = (message: string, fields?: Record<string, unknown>): void => void lines.push({ message, fields });
  let now = 10_000;
  const log = new ProgressLog({ debug: record, info: record, warn: record, error: record }, { now: () => now });
  return { log, lines, advance: (ms: number) => (now += ms), at: () => now };
}

describe('ProgressLog', () => {
  it('stays quiet during the first second of a transfer', () => {
    const { log, lines, at } = setup();
    log.onProgress({ path: 'big.bin', bytesDone: 10, bytesTotal: 100, startedAtMs: at() - 999 });
    expect(lines).toEqual([]);
  });

  it('logs a long transfer at most once per second with percent and rate', () => {
    const { log, lines, advance, at } = setup();
    const startedAtMs = at() - 2000;
    log.onProgress({ path: 'big.bin', bytesDone: 2 * 1024 * 1024, bytesTotal: 8 * 1024 * 1024, startedAtMs });
    advance(250);
    log.onProgress({ path: 'big.bin', bytesDone: 3 * 1024 * 1024, bytesTotal: 8 * 1024 * 1024, startedAtMs });
    advance(750);
    log.onProgress({ path: 'big.bin', bytesDone: 4 * 1024 * 1024, bytesTotal: 8 * 1024 * 1024, startedAtMs });
    expect(lines).toEqual([
      { message: 'transfer progress', fields: { path: 'big.bin', done: '2.00 MiB', total: '8.00 MiB', percent: 25, rate: '1.00 MiB/s' } },
      { message: 'transfer progress', fields: { path: 'big.bin', done: '4.00 MiB', total: '8.00 MiB', percent: 50, rate: '1.33 MiB/s' } },
    ]);
  });

  it('throttles each transfer on its own', () => {
    const { log, lines, at } = setup();
    log.onProgress({ path: 'a', bytesDone: 1, bytesTotal: 2, startedAtMs: at() - 5000 });
    log.onProgress({ path: 'b', bytesDone: 1, bytesTotal: 2, startedAtMs: at() - 5000 });
    expect(lines.map((line) => line.fields?.path)).toEqual(['a', 'b']);
  });

  it('says what it was made to say', () => {
    const lines: string[] = [];
    const record = (message: string): void => void lines.push(message);
    const log = new ProgressLog({ debug: record, info: record, warn: record, error: record }, { now: () => 10_000, message: 'hashing progress' });
    log.onProgress({ path: 'big.bin', bytesDone: 1, bytesTotal: 2, startedAtMs: 0 });
    expect(lines).toEqual(['hashing progress']);
  });

  it('does not log a finished transfer and forgets it when done', () => {
    const { log, lines, at } = setup();
    log.onProgress({ path: 'a', bytesDone: 2, bytesTotal: 2, startedAtMs: at() - 5000 });
    expect(lines).toEqual([]);
    log.onProgress({ path: 'a', bytesDone: 1, bytesTotal: 2, startedAtMs: at() - 5000 });
    expect(log.tracked).toBe(1);
    log.onDone('a');
    expect(log.tracked).toBe(0);
    // A last event saying all is done forgets it too (hashes end with one; transfers with 'file-synced').
    log.onProgress({ path: 'b', bytesDone: 1, bytesTotal: 2, startedAtMs: at() - 5000 });
    log.onProgress({ path: 'b', bytesDone: 2, bytesTotal: 2, startedAtMs: at() - 5000 });
    expect(log.tracked).toBe(0);
  });

  it('bounds how many transfers it remembers', () => {
    const { log, at } = setup();
    for (let i = 0; i < 2000; i++) log.onProgress({ path: `f${i}`, bytesDone: 1, bytesTotal: 2, startedAtMs: at() - 5000 });
    expect(log.tracked).toBe(1024);
  });
});
