import { describe, expect, it } from 'vitest';
import { systemRandom } from './system';

// Goal: ids stay random, of the asked size and never repeated, across refills of their pool.
describe('systemRandom.id', () => {
  it('gives base64url ids of the asked number of bytes, none repeated, across many refills of its pool', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => systemRandom.id(i % 2 === 0 ? 12 : 9));
    for (const [i, id] of ids.entries()) {
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(id, 'base64url').byteLength).toBe(i % 2 === 0 ? 12 : 9);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('serves an id larger than its pool', () => {
    expect(Buffer.from(systemRandom.id(5000), 'base64url').byteLength).toBe(5000);
  });
});
