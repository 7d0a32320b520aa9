import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compare, dominates, emptyVector, equal, increment, merge } from './version-vector';
import type { VersionVector } from './version-vector';

// A small pool so vectors overlap; includes ids that are also Object.prototype names.
const nodeIdArb = fc.constantFrom('a', 'b', 'c', 'node-1', '123', '__proto__', 'constructor', 'toString');
const vectorArb: fc.Arbitrary<VersionVector> = fc
  .array(fc.tuple(nodeIdArb, fc.nat({ max: 6 })), { maxLength: 6 })
  .map((entries) => Object.fromEntries(entries));

describe('version vectors', () => {
  it('merge is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(vectorArb, vectorArb, vectorArb, (a, b, c) => {
        expect(merge(a, b)).toEqual(merge(b, a));
        expect(merge(merge(a, b), c)).toEqual(merge(a, merge(b, c)));
        expect(merge(a, a)).toEqual(a);
      }),
    );
  });

  it('merge dominates both inputs and is the least such vector', () => {
    fc.assert(
      fc.property(vectorArb, vectorArb, vectorArb, (a, b, c) => {
        const m = merge(a, b);
        expect(dominates(m, a) && dominates(m, b)).toBe(true);
        if (dominates(c, a) && dominates(c, b)) expect(dominates(c, m)).toBe(true);
      }),
    );
  });

  it('compare is antisymmetric and consistent with dominates', () => {
    const mirror = { equal: 'equal', before: 'after', after: 'before', concurrent: 'concurrent' } as const;
    fc.assert(
      fc.property(vectorArb, vectorArb, (a, b) => {
        const ordering = compare(a, b);
        expect(compare(b, a)).toBe(mirror[ordering]);
        expect(dominates(a, b)).toBe(ordering === 'after' || ordering === 'equal');
        expect(dominates(a, b) && dominates(b, a)).toBe(ordering === 'equal');
        expect(equal(a, b)).toBe(ordering === 'equal');
      }),
    );
  });

  it('increment strictly dominates its input and exceeds every counter it has seen', () => {
    fc.assert(
      fc.property(vectorArb, nodeIdArb, (v, id) => {
        const next = increment(v, id);
        expect(compare(next, v)).toBe('after');
        expect(next[id]).toBe(Math.max(0, ...Object.values(v)) + 1);
        expect(Object.keys(next).sort()).toEqual([...new Set([...Object.keys(v), id])].sort());
      }),
    );
  });

  it('treats missing entries as zero', () => {
    expect(compare({}, { a: 0 })).toBe('equal');
    expect(compare({ a: 1 }, {})).toBe('after');
    expect(compare({}, { b: 2 })).toBe('before');
    expect(compare({ a: 1 }, { b: 1 })).toBe('concurrent');
    expect(compare(emptyVector(), emptyVector())).toBe('equal');
  });

  it('never reads counters through the prototype', () => {
    expect(compare({}, { constructor: 1 })).toBe('before');
    expect(compare({ toString: 0 }, {})).toBe('equal');
    const withProto = increment({}, '__proto__');
    expect(Object.getPrototypeOf(withProto)).toBe(Object.prototype);
    expect(Object.hasOwn(withProto, '__proto__')).toBe(true);
    expect(compare(withProto, {})).toBe('after');
    expect(merge(withProto, { a: 3 })).toEqual(Object.fromEntries([['__proto__', 1], ['a', 3]]));
  });

  it('increment sets one more than the highest counter, not one more than its own', () => {
    expect(increment({ a: 1, b: 7 }, 'a')).toEqual({ a: 8, b: 7 });
    expect(increment(emptyVector(), 'n')).toEqual({ n: 1 });
  });

  it('produces sorted keys so every node serialises a vector the same way', () => {
    expect(JSON.stringify(merge({ c: 1, a: 2 }, { b: 3 }))).toBe('{"a":2,"b":3,"c":1}');
    expect(JSON.stringify(increment({ z: 1 }, 'm'))).toBe('{"m":2,"z":1}');
  });

  it('does not mutate its inputs', () => {
    const v = Object.freeze({ a: 1 });
    const w = Object.freeze({ b: 2 });
    increment(v, 'a');
    merge(v, w);
    expect(v).toEqual({ a: 1 });
    expect(w).toEqual({ b: 2 });
  });

  it('rejects node ids outside [A-Za-z0-9_-]{1,64}', () => {
    for (const id of ['', 'a.b', 'a/b', 'x'.repeat(65), 'ü']) {
      expect(() => increment({}, id)).toThrow(expect.objectContaining({ name: 'ConflictError', code: 'INVALID_NODE_ID' }));
    }
    expect(increment({}, 'x'.repeat(64))).toEqual({ ['x'.repeat(64)]: 1 });
  });
});
