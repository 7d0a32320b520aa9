import { describe, expect, it } from 'vitest';
import { encodeBlock } from '@sync/protocol';
import { BlockPool } from './block-pool';

describe('BlockPool', () => {
  it('hands a returned buffer out again for the same size, and a fresh one for another size', () => {
    const pool = new BlockPool(1024 * 1024);
    const first = pool.take(1024);
    pool.give(first);
    expect(pool.heldBytes).toBe(1024);
    expect(pool.take(2048)).not.toBe(first);
    expect(pool.take(1024)).toBe(first);
    expect(pool.heldBytes).toBe(0);
    expect(pool.take(1024)).not.toBe(first);
  });

  it('keeps the frame header room, so a reused buffer is still framed in place', () => {
    const pool = new BlockPool(1024 * 1024);
    const payload = pool.take(16);
    payload.fill(7);
    pool.give(payload);
    const again = pool.take(16);
    again.fill(9);
    const frame = encodeBlock(42, again);
    expect(frame.buffer).toBe(again.buffer);
    expect([...frame.subarray(frame.byteLength - 16)]).toEqual(new Array(16).fill(9));
  });

  it('keeps only full-block sizes (powers of two)', () => {
    const pool = new BlockPool(1024 * 1024);
    pool.give(pool.take(1000));
    expect(pool.heldBytes).toBe(0);
  });

  it('keeps no buffer it did not make: one without room for a frame header would be framed by a copy', () => {
    const pool = new BlockPool(1024 * 1024);
    pool.give(new Uint8Array(1024));
    expect(pool.heldBytes).toBe(0);
  });

  it('holds no more than its bound', () => {
    const pool = new BlockPool(2600);
    const buffers = [pool.take(1024), pool.take(1024), pool.take(1024)];
    for (const buffer of buffers) pool.give(buffer);
    expect(pool.heldBytes).toBe(2048);
  });
});
