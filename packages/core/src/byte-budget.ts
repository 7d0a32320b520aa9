/**
 * Bytes held at once, handed out in the order they were asked for. A request larger than the
 * whole capacity waits for it all, so one large block never deadlocks.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiters: { bytes: number; resolve: () => void }[] = [];

  constructor(private readonly capacity: number) {}

  async acquire(bytes: number): Promise<void> {
    const wanted = Math.min(bytes, this.capacity);
    if (this.used + wanted <= this.capacity && this.waiters.length === 0) {
      this.used += wanted;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push({ bytes: wanted, resolve }));
  }

  release(bytes: number): void {
    this.used -= Math.min(bytes, this.capacity);
    while (this.waiters.length) {
      const next = this.waiters[0]!;
      if (this.used + next.bytes > this.capacity) break;
      this.waiters.shift();
      this.used += next.bytes;
      next.resolve();
    }
  }
}
