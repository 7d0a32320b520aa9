import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit';

/** A flush the test finishes by hand, recording when each one started. */
function manualFlush(): { group: GroupCommit; started: string[]; finish: (error?: Error) => void } {
  const started: string[] = [];
  const pending: ((error?: Error) => void)[] = [];
  const group = new GroupCommit(
    (key) =>
      new Promise<void>((resolve, reject) => {
        started.push(key);
        pending.push((error) => (error ? reject(error) : resolve()));
      }),
  );
  return { group, started, finish: (error) => pending.shift()?.(error) };
}

const settled = async (promise: Promise<void>): Promise<boolean> => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('GroupCommit', () => {
  it('runs one flush for a lone caller', async () => {
    const { group, started, finish } = manualFlush();
    const call = group.run('a');
    expect(started).toEqual(['a']);
    finish();
    await call;
    expect(started).toEqual(['a']);
  });

  it('makes callers that arrive during a flush wait for a later one, which they share', async () => {
    const { group, started, finish } = manualFlush();
    const first = group.run('d');
    const second = group.run('d');
    const third = group.run('d');
    expect(second).toBe(third);
    expect(started).toEqual(['d']);
    finish();
    await first;
    // The first flush may have begun before their writes: they are not done until the next one is.
    expect(await settled(second)).toBe(false);
    expect(started).toEqual(['d', 'd']);
    finish();
    await Promise.all([second, third]);
    expect(started).toHaveLength(2);
  });

  it('keeps keys apart', async () => {
    const { group, started, finish } = manualFlush();
    const a = group.run('a');
    const b = group.run('b');
    expect(started).toEqual(['a', 'b']);
    finish();
    finish();
    await Promise.all([a, b]);
  });

  it('hands a failed flush to its callers and still runs the queued one', async () => {
    const { group, started, finish } = manualFlush();
    const first = group.run('d');
    const second = group.run('d');
    finish(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['d', 'd']);
    finish();
    await expect(second).resolves.toBeUndefined();
    const third = group.run('d');
    expect(started).toHaveLength(3);
    finish();
    await third;
  });
});
