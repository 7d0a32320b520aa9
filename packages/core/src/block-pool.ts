import { allocBlockPayload, blockFrameOf } from '@sync/protocol';

/**
 * Reuses the buffers blocks are served and received in, and the scanner's read buffers
 * (`hashFile`). Each block in a fresh buffer made V8 run a full collection after every ~64 MiB
 * ("external memory pressure"). A served block's buffer comes back once the transport has written
 * it out, a received one's once it is in the file, a read buffer once its file is hashed, and the
 * next block of the same size is read into it.
 */
export class BlockPool {
  private readonly free = new Map<number, Uint8Array[]>();
  private bytes = 0;

  /** `bytesMax`: buffers held for reuse, at most. */
  constructor(private readonly bytesMax: number) {}

  /** A payload buffer of `size` bytes with room for the frame header (`allocBlockPayload`); not zeroed. */
  take(size: number): Uint8Array {
    const reused = this.free.get(size)?.pop();
    if (!reused) return allocBlockPayload(size);
    this.bytes -= size;
    return reused;
  }

  /**
   * Hands a buffer back; nothing may use it afterwards. Kept while the pool has room, only if
   * `take` made it (it has room for a frame header), and only at a full block's size (a power of
   * two): a file's last block or a small file's size rarely repeats.
   */
  give(payload: Uint8Array): void {
    const size = payload.byteLength;
    if ((size & (size - 1)) !== 0 || this.bytes + size > this.bytesMax || !blockFrameOf(payload)) return;
    const list = this.free.get(payload.byteLength) ?? [];
    list.push(payload);
    this.free.set(payload.byteLength, list);
    this.bytes += payload.byteLength;
  }

  get heldBytes(): number {
    return this.bytes;
  }
}
