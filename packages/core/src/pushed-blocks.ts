import { sha256 } from './hashing';

/**
 * Small files' bytes that peers pushed with their announcements (block frames with id 0), keyed
 * by the SHA-256 computed here, so a block taken from it is verified. Bounded: the oldest are
 * dropped first, and a dropped or unused block is simply requested as usual.
 */
export class PushedBlocks {
  private readonly blocks = new Map<string, Uint8Array>();
  private bytes = 0;

  constructor(private readonly bytesMax: number) {}

  get size(): number {
    return this.blocks.size;
  }

  add(data: Uint8Array): void {
    if (data.byteLength > this.bytesMax) return;
    const hash = sha256(data);
    if (this.blocks.has(hash)) return;
    this.blocks.set(hash, data);
    this.bytes += data.byteLength;
    for (const [oldest, block] of this.blocks) {
      if (this.bytes <= this.bytesMax) break;
      this.blocks.delete(oldest);
      this.bytes -= block.byteLength;
    }
  }

  /** The block with this hash, once: it is removed. */
  take(hash: string): Uint8Array | undefined {
    const data = this.blocks.get(hash);
    if (!data) return undefined;
    this.blocks.delete(hash);
    this.bytes -= data.byteLength;
    return data;
  }
}
