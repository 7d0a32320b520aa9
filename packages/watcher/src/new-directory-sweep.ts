import type { Dirent } from 'node:fs';
import { readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * chokidar lists a directory and only then watches it, so an entry created in between (`mkdir -p
 * a/b` racing chokidar's listing of `a`) is neither reported nor watched, ever. Each directory
 * chokidar reports as new is therefore listed once more after this delay, when chokidar watches
 * it, and what chokidar does not know is handed back to it. The same holds for every directory of
 * the initial crawl, which is swept once when chokidar is ready.
 */
export const newDirectorySweepDelayMs = 250;
const sweepBatchDirs = 64;

export interface SweepPorts {
  /** Does chokidar know this entry of the directory (reported and watched)? */
  isKnown(absoluteDir: string, name: string): boolean;
  /** Would chokidar's `ignored` skip it? Such entries are never known. */
  isPruned(absolutePath: string, isDirectory: boolean): boolean;
  /** Have chokidar report and watch it, with everything beneath it. */
  adopt(absolutePath: string): void;
  list?(absoluteDir: string): Dirent[];
}

export class NewDirectorySweep {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly ports: SweepPorts,
    private readonly delayMs: number = newDirectorySweepDelayMs,
  ) {}

  schedule(absoluteDir: string): void {
    this.after(this.delayMs, () => this.sweep(absoluteDir));
  }

  get pending(): number {
    return this.timers.size;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * Sweeps each directory now, yielding to the event loop every few, so that a large tree does
   * not block events; returns how many entries were handed back.
   */
  async sweepAll(absoluteDirs: Iterable<string>): Promise<number> {
    let missed = 0;
    let swept = 0;
    for (const absoluteDir of absoluteDirs) {
      if (this.stopped) break;
      missed += this.sweep(absoluteDir).length;
      if (++swept % sweepBatchDirs === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    return missed;
  }

  /** Returns the entries handed back to chokidar. */
  sweep(absoluteDir: string): string[] {
    if (this.stopped) return [];
    const missed: string[] = [];
    for (const entry of this.list(absoluteDir)) {
      const absolutePath = path.join(absoluteDir, entry.name);
      if (this.ports.isKnown(absoluteDir, entry.name) || this.ports.isPruned(absolutePath, entry.isDirectory())) continue;
      missed.push(absolutePath);
      this.ports.adopt(absolutePath);
    }
    return missed;
  }

  private after(delayMs: number, run: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    // Bookkeeping must never keep the process alive on its own.
    timer.unref();
    this.timers.add(timer);
  }

  /** A directory gone or replaced since was reported by chokidar on its own. */
  private list(absoluteDir: string): Dirent[] {
    try {
      return (this.ports.list ?? listDirectory)(absoluteDir);
    } catch {
      return [];
    }
  }
}

function listDirectory(absoluteDir: string): Dirent[] {
  return readdirSync(absoluteDir, { withFileTypes: true });
}
