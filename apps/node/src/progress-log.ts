import type { Logger } from '@sync/core';
import { formatBytes } from './units';

export interface ProgressEvent {
  path: string;
  bytesDone: number;
  bytesTotal: number;
  startedAtMs: number;
}

export interface ProgressLogOptions {
  /** Transfers shorter than this are reported only by their "file synced" line. */
  quietMs?: number;
  /** At most one progress line per transfer per interval. */
  intervalMs?: number;
  /** What each line says ('transfer progress'; 'hashing progress' for the engine's 'hash-progress'). */
  message?: string;
  now?: () => number;
}

/** Transfers tracked at once; beyond it the oldest are forgotten (a failed transfer never reports done). */
const trackedTransfersMax = 1024;

/** Turns the engine's frequent progress events into an occasional line for long transfers (or hashes). */
export class ProgressLog {
  private readonly lastLoggedAtMs = new Map<string, number>();
  private readonly quietMs: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly message: string;

  constructor(
    private readonly logger: Logger,
    options: ProgressLogOptions = {},
  ) {
    this.quietMs = options.quietMs ?? 1000;
    this.intervalMs = options.intervalMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.message = options.message ?? 'transfer progress';
  }

  onProgress(event: ProgressEvent): void {
    const now = this.now();
    const elapsedMs = now - event.startedAtMs;
    if (event.bytesDone >= event.bytesTotal) return this.onDone(event.path);
    if (elapsedMs < this.quietMs) return;
    const last = this.lastLoggedAtMs.get(event.path);
    if (last !== undefined && now - last < this.intervalMs) return;
    this.remember(event.path, now);
    const percent = event.bytesTotal > 0 ? Math.floor((event.bytesDone / event.bytesTotal) * 100) : 0;
    this.logger.info(this.message, {
      path: event.path,
      done: formatBytes(event.bytesDone),
      total: formatBytes(event.bytesTotal),
      percent,
      rate: `${formatBytes((event.bytesDone / Math.max(elapsedMs, 1)) * 1000)}/s`,
    });
  }

  /** The transfer finished or was abandoned: forget it. */
  onDone(path: string): void {
    this.lastLoggedAtMs.delete(path);
  }

  get tracked(): number {
    return this.lastLoggedAtMs.size;
  }

  private remember(path: string, now: number): void {
    this.lastLoggedAtMs.delete(path);
    this.lastLoggedAtMs.set(path, now);
    if (this.lastLoggedAtMs.size > trackedTransfersMax) {
      const oldest = this.lastLoggedAtMs.keys().next().value;
      if (oldest !== undefined) this.lastLoggedAtMs.delete(oldest);
    }
  }
}
