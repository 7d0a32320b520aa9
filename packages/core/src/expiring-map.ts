/**
 * Entries that count for a while: each has a weight and the time it was set, and stops counting
 * `ttlMs` later or, with `weightMax`, once newer entries take the total over it (oldest first).
 */
export class ExpiringMap<K, V> {
  /** Oldest first: setting a key again moves it to the end. */
  private readonly entries = new Map<K, { value: V; weight: number; atMs: number }>();
  private weight = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly weightMax = Infinity,
  ) {}

  set(key: K, value: V, weight: number, nowMs: number): void {
    this.delete(key);
    this.entries.set(key, { value, weight, atMs: nowMs });
    this.weight += weight;
    this.expire(nowMs);
  }

  get(key: K, nowMs: number): V | undefined {
    const entry = this.entries.get(key);
    return entry && nowMs - entry.atMs < this.ttlMs ? entry.value : undefined;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  delete(key: K): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.weight -= entry.weight;
  }

  /** The weight of the entries still counting. */
  totalWeight(nowMs: number): number {
    this.expire(nowMs);
    return this.weight;
  }

  private expire(nowMs: number): void {
    for (const [key, entry] of this.entries) {
      if (this.weight <= this.weightMax && nowMs - entry.atMs < this.ttlMs) return;
      this.delete(key);
    }
  }
}
