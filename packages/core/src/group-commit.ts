/**
 * Group commit for a flush keyed by name (a directory's fsync): callers that arrive while a flush
 * of that key runs share the next one, which starts once it ends. Every caller is covered by a
 * flush that began after its call, and a burst of N callers costs two flushes, not N.
 */
export class GroupCommit {
  private readonly running = new Map<string, Promise<void>>();
  private readonly queued = new Map<string, Promise<void>>();

  constructor(private readonly flush: (key: string) => Promise<void>) {}

  run(key: string): Promise<void> {
    const queued = this.queued.get(key);
    if (queued) return queued;
    const running = this.running.get(key);
    if (!running) return this.start(key);
    const next = running
      .catch(() => {})
      .then(() => {
        this.queued.delete(key);
        return this.start(key);
      });
    this.queued.set(key, next);
    return next;
  }

  private start(key: string): Promise<void> {
    const flush = this.flush(key).finally(() => {
      if (this.running.get(key) === flush) this.running.delete(key);
    });
    this.running.set(key, flush);
    return flush;
  }
}
