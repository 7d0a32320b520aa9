import { describe, expect, it } from 'vitest';
import { sharedVersion } from './shared-versions';

// Fresh objects each call, as decoded lines and frames hold them.
const vector = (entries: [string, number][]) => Object.fromEntries(entries);

describe('sharedVersion', () => {
  it('gives one object for equal one-entry vectors', () => {
    const first = sharedVersion(vector([['shared-a', 1]]));
    const second = sharedVersion(vector([['shared-a', 1]]));
    expect(second).toBe(first);
    expect(second).toEqual({ 'shared-a': 1 });
  });

  it('keeps vectors of different nodes or counters apart', () => {
    const a1 = sharedVersion(vector([['shared-b', 1]]));
    expect(sharedVersion(vector([['shared-b', 2]]))).not.toBe(a1);
    expect(sharedVersion(vector([['shared-c', 1]]))).toEqual({ 'shared-c': 1 });
    expect(sharedVersion(vector([['shared-b', 2]]))).toEqual({ 'shared-b': 2 });
  });

  it('leaves vectors of several entries, large counters and odd ids as they are', () => {
    const several = vector([['shared-d', 1], ['shared-e', 1]]);
    expect(sharedVersion(several)).toBe(several);
    const large = vector([['shared-d', 1000]]);
    expect(sharedVersion(large)).toBe(large);
    const proto = vector([['__proto__', 1]]);
    expect(sharedVersion(proto)).toEqual(proto);
    expect(Object.hasOwn(sharedVersion(vector([['__proto__', 1]])), '__proto__')).toBe(true);
  });
});
