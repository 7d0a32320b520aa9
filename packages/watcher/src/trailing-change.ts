import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';

/**
 * chokidar forwards the first `change` of a file and then drops further ones for 50 ms (and raw
 * events for 5 ms), with no trailing event. A write that lands in that window would never be
 * reported and the engine would sync a stale version. So after each reported change we look once
 * more when the window has passed and report the change we would otherwise miss.
 */
export const chokidarChangeThrottleMs = 50;
export const trailingCheckDelayMs = chokidarChangeThrottleMs + 25;

export type StatFile = (absolutePath: string) => Promise<Stats>;
export type FileShape = Pick<Stats, 'mtimeMs' | 'ctimeMs' | 'size' | 'ino'>;

export class TrailingChangeCheck {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly onMissedChange: (absolutePath: string, current: Stats) => void,
    private readonly delayMs: number = trailingCheckDelayMs,
    private readonly statFile: StatFile = stat,
  ) {}

  /** A change was reported with `seen` (chokidar's stats, when it had them). */
  noteChange(absolutePath: string, seen: FileShape | undefined): void {
    if (this.stopped) return;
    this.cancel(absolutePath);
    const timer = setTimeout(() => {
      this.timers.delete(absolutePath);
      void this.check(absolutePath, seen);
    }, this.delayMs);
    // Bookkeeping must never keep the process alive on its own.
    timer.unref();
    this.timers.set(absolutePath, timer);
  }

  cancel(absolutePath: string): void {
    const timer = this.timers.get(absolutePath);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(absolutePath);
  }

  get pending(): number {
    return this.timers.size;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async check(absolutePath: string, seen: FileShape | undefined): Promise<void> {
    let current: Stats;
    try {
      current = await this.statFile(absolutePath);
    } catch {
      // Gone or unreadable: chokidar reports the unlink itself.
      return;
    }
    if (this.stopped) return;
    if (seen === undefined || !sameShape(seen, current)) this.onMissedChange(absolutePath, current);
  }
}

export function sameShape(a: FileShape, b: FileShape): boolean {
  return a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.size === b.size && a.ino === b.ino;
}
