import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Watcher, WatchEvent, WatchEventType } from '../src/index';

export const eventTimeoutMs = 10_000;
const pollStepMs = 10;

export async function makeTempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'sync-watcher-'));
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = eventTimeoutMs): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollStepMs));
  }
}

type PathEvent = Extract<WatchEvent, { path: string }>;

interface Waiter {
  matches: (event: WatchEvent, index: number) => boolean;
  resolve: (index: number) => void;
}

/** Records every event of a watcher and lets a test wait for one. */
export class EventLog {
  readonly events: WatchEvent[] = [];
  private readonly waiters = new Set<Waiter>();
  readonly unsubscribe: () => void;

  constructor(watcher: Watcher) {
    this.unsubscribe = watcher.on((event) => this.record(event));
  }

  pathEvents(): PathEvent[] {
    return this.events.filter((event): event is PathEvent => 'path' in event);
  }

  paths(): string[] {
    return this.pathEvents().map((event) => event.path);
  }

  has(type: WatchEventType, eventPath: string): boolean {
    return this.pathEvents().some((event) => event.type === type && event.path === eventPath);
  }

  /** Resolves with the index of the first `type` event for `eventPath` at or after `fromIndex`. */
  waitForPath(type: WatchEventType, eventPath: string, fromIndex = 0): Promise<number> {
    return this.waitForEvent(
      (event, index) => index >= fromIndex && 'path' in event && event.type === type && event.path === eventPath,
      `${type} ${eventPath}`,
    );
  }

  waitForEvent(matches: (event: WatchEvent, index: number) => boolean, what: string, timeoutMs = eventTimeoutMs): Promise<number> {
    const found = this.events.findIndex((event, index) => matches(event, index));
    if (found !== -1) return Promise.resolve(found);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; saw ${JSON.stringify(this.describe())}`));
      }, timeoutMs);
      const waiter: Waiter = {
        matches,
        resolve: (index) => {
          clearTimeout(timer);
          resolve(index);
        },
      };
      this.waiters.add(waiter);
    });
  }

  describe(): string[] {
    return this.events.map((event) => ('path' in event ? `${event.type} ${event.path}` : event.type === 'error' ? `error ${event.error.message}` : event.type));
  }

  private record(event: WatchEvent): void {
    const index = this.events.push(event) - 1;
    for (const waiter of [...this.waiters]) {
      if (!waiter.matches(event, index)) continue;
      this.waiters.delete(waiter);
      waiter.resolve(index);
    }
  }
}
