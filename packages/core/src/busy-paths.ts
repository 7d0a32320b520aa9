/**
 * Paths the engine is writing right now. The scanner leaves them alone until done and is told when
 * one it wanted to scan is released. It used to look again every quiet period: each file a puller
 * wrote was reported by the watcher while its directory's fsync ran, and its scan was put off and
 * re-armed (a timer and two table entries) until that fsync was done.
 */
export class BusyPaths {
  private readonly paths = new Set<string>();
  private readonly awaited = new Set<string>();
  private readonly releasedListeners: ((path: string) => void)[] = [];

  has(path: string): boolean {
    return this.paths.has(path);
  }

  add(path: string): void {
    this.paths.add(path);
  }

  delete(path: string): void {
    if (!this.paths.delete(path) || !this.awaited.delete(path)) return;
    for (const listener of this.releasedListeners) listener(path);
  }

  /** Tells the `onReleased` listeners once this busy path is released. */
  awaitRelease(path: string): void {
    if (this.paths.has(path)) this.awaited.add(path);
  }

  /** Busy paths someone awaits the release of. */
  get awaiting(): number {
    return this.awaited.size;
  }

  onReleased(listener: (path: string) => void): void {
    this.releasedListeners.push(listener);
  }
}
