import { describe, expect, it } from 'vitest';
import { PushLedger } from './push-ledger';

describe('PushLedger', () => {
  it('leaves room for what the peer has not yet confirmed, and frees it on confirmation', () => {
    const ledger = new PushLedger(10_000, 5_000);
    expect(ledger.room(0)).toBe(10_000);
    ledger.pushed('a', 4_096, 0);
    ledger.pushed('b', 4_096, 0);
    expect(ledger.room(1)).toBe(10_000 - 8_192);
    ledger.pushed('c', 4_096, 1);
    expect(ledger.room(2)).toBe(0);
    ledger.confirmed('b');
    ledger.confirmed('b');
    ledger.confirmed('unknown');
    expect(ledger.room(3)).toBe(10_000 - 8_192);
  });

  it('counts a content pushed twice once', () => {
    const ledger = new PushLedger(10_000, 5_000);
    ledger.pushed('a', 4_096, 0);
    ledger.pushed('a', 4_096, 10);
    expect(ledger.room(20)).toBe(10_000 - 4_096);
  });

  it('stops counting pushes the peer never confirms once they expire, oldest first', () => {
    const ledger = new PushLedger(10_000, 5_000);
    ledger.pushed('a', 4_000, 0);
    ledger.pushed('b', 4_000, 3_000);
    expect(ledger.room(4_999)).toBe(2_000);
    expect(ledger.room(5_000)).toBe(6_000);
    expect(ledger.room(8_000)).toBe(10_000);
    ledger.confirmed('a');
    expect(ledger.room(8_000)).toBe(10_000);
  });
});
