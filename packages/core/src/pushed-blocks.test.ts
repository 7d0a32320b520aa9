import { describe, expect, it } from 'vitest';
import { PushedBlocks } from './pushed-blocks';
import { sha256 } from './hashing';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('PushedBlocks', () => {
  it('keys a pushed block by its own hash and hands it out once', () => {
    const pushed = new PushedBlocks(1024);
    pushed.add(bytes('hello'));
    expect(pushed.take(sha256(bytes('other')))).toBeUndefined();
    expect(pushed.take(sha256(bytes('hello')))).toEqual(bytes('hello'));
    expect(pushed.take(sha256(bytes('hello')))).toBeUndefined();
  });

  it('drops the oldest blocks beyond its byte bound, and refuses a block larger than it', () => {
    const pushed = new PushedBlocks(10);
    pushed.add(bytes('aaaa'));
    pushed.add(bytes('bbbb'));
    pushed.add(bytes('cccc'));
    expect(pushed.size).toBe(2);
    expect(pushed.take(sha256(bytes('aaaa')))).toBeUndefined();
    expect(pushed.take(sha256(bytes('cccc')))).toEqual(bytes('cccc'));
    pushed.add(bytes('x'.repeat(11)));
    expect(pushed.take(sha256(bytes('x'.repeat(11))))).toBeUndefined();
  });
});
