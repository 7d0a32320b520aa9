import type { Stats } from 'node:fs';
import { lstatQuiet } from './lstat-quiet';
import { sameShape } from './trailing-change';

const recheckBatchFiles = 256;

export type BaselineDrift = { type: 'change'; absolutePath: string; stats: Stats } | { type: 'unlink'; absolutePath: string };

/**
 * When polling, chokidar stats each file as it crawls, then starts fs.watchFile, whose own first
 * stat runs later in the background and becomes the baseline it compares against. A file changed
 * or removed in between (right after start-up) is part of that baseline and is never reported.
 * The crawl's stats are kept until every baseline is surely taken; then each file is looked at
 * once more and whatever drifted from its crawl stats is reported.
 */
export class CrawlBaseline {
  private readonly crawled = new Map<string, Stats>();
  private sealed = false;

  /** chokidar's stats of a file met during the crawl; anything noted after `seal()` is ignored. */
  note(absolutePath: string, stats: Stats | undefined): void {
    if (this.sealed || stats === undefined || !stats.isFile()) return;
    this.crawled.set(absolutePath, stats);
  }

  /** The crawl is over: later files are chokidar's own adds, with nothing to miss. */
  seal(): void {
    this.sealed = true;
  }

  get size(): number {
    return this.crawled.size;
  }

  /**
   * Reports every crawled file that changed or went since the crawl, yielding to the event loop
   * every few, and forgets them all. A change the baseline did catch may be reported twice;
   * consumers re-check the disk.
   */
  async recheck(report: (drift: BaselineDrift) => void, isStopped: () => boolean): Promise<number> {
    let drifted = 0;
    let checked = 0;
    for (const [absolutePath, crawledStats] of this.crawled) {
      if (isStopped()) break;
      const drift = driftOf(absolutePath, crawledStats);
      if (drift !== undefined) {
        drifted += 1;
        report(drift);
      }
      if (++checked % recheckBatchFiles === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    this.crawled.clear();
    return drifted;
  }
}

function driftOf(absolutePath: string, crawledStats: Stats): BaselineDrift | undefined {
  const current = lstatQuiet(absolutePath);
  if (current === undefined) return { type: 'unlink', absolutePath };
  // A chmod alone moves only ctime, which sameShape compares.
  if (current.isFile() && sameShape(crawledStats, current) && current.mode === crawledStats.mode) return undefined;
  return { type: 'change', absolutePath, stats: current };
}
