import { ExpiringMap } from './expiring-map';

/**
 * What this node pushed to one peer that the peer has not yet shown it holds. A peer keeps pushed
 * blocks in a cache as large as `bytesMax` and drops the oldest when it is full, so pushing more
 * than that ahead of its puller sends bytes it throws away and then asks for again: a burst of
 * 10,000 small files went over the wire twice. The peer shows a file is written when its index
 * names the file with the pushed content; a push it never confirms (it had the file already, or
 * kept another version) stops counting after `expiryMs`. The peer's cache is shared by all its
 * peers, so two of them pushing bursts at once can still overrun it: it then asks for the oldest.
 */
export class PushLedger {
  /** Pushed bytes by file hash. */
  private readonly unconfirmed: ExpiringMap<string, true>;

  constructor(
    private readonly bytesMax: number,
    expiryMs: number,
  ) {
    this.unconfirmed = new ExpiringMap(expiryMs);
  }

  /** Bytes that may be pushed now. */
  room(nowMs: number): number {
    return Math.max(0, this.bytesMax - this.unconfirmed.totalWeight(nowMs));
  }

  pushed(fileHash: string, bytes: number, nowMs: number): void {
    if (!this.unconfirmed.has(fileHash)) this.unconfirmed.set(fileHash, true, bytes, nowMs);
  }

  /** The peer's index holds a file with this content. */
  confirmed(fileHash: string): void {
    this.unconfirmed.delete(fileHash);
  }
}
