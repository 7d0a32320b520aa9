import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ChokidarWatcher, NativeWatcher } from '../src/index';
import type { Watcher, WatcherOptions, WatchEvent, WatchEventType } from '../src/index';

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

export type WatcherFactory<W extends Watcher = Watcher> = (options: WatcherOptions) => W;

export interface Implementation {
  name: string;
  create: WatcherFactory;
}

/** Every implementation of the contract that runs on this platform (NativeWatcher is Linux only). */
export const implementations: Implementation[] = [
  { name: 'ChokidarWatcher', create: (options) => new ChokidarWatcher(options) },
  ...(process.platform === 'linux' ? [{ name: 'NativeWatcher', create: (options: WatcherOptions) => new NativeWatcher(options) }] : []),
];

export interface Fixture<W extends Watcher = Watcher> {
  root: string;
  watcher: W;
  log: EventLog;
  /** Writes a fresh sentinel file and waits for its event: everything written before has been seen. */
  sentinel: () => Promise<void>;
}

/** Temporary roots and watchers of one test file; `cleanUp()` (in afterEach) closes and removes them. */
export class Scratch {
  private readonly cleanups: Array<() => Promise<void>> = [];

  defer(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  async cleanUp(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup();
  }

  /** A fresh temporary directory holding `files` (relative path → content). */
  async makeRoot(files: Record<string, string> = {}): Promise<string> {
    const root = await makeTempDir();
    this.defer(() => removeTempDir(root));
    await writeFiles(root, files);
    return root;
  }

  /** A started watcher on `root` whose events are logged from the start. */
  async watch<W extends Watcher>(create: WatcherFactory<W>, root: string, options: Partial<WatcherOptions> = {}): Promise<Fixture<W>> {
    const watcher = create({ root, ...options });
    this.defer(() => watcher.close());
    const log = new EventLog(watcher);
    await watcher.start();
    let sentinels = 0;
    const sentinel = async (): Promise<void> => {
      sentinels += 1;
      const name = `sentinel-${sentinels}.txt`;
      await writeFile(path.join(root, name), 'sentinel');
      await log.waitForPath('add', name);
    };
    return { root, watcher, log, sentinel };
  }

  async setup<W extends Watcher>(create: WatcherFactory<W>, files: Record<string, string> = {}, options: Partial<WatcherOptions> = {}): Promise<Fixture<W>> {
    return this.watch(create, await this.makeRoot(files), options);
  }
}

export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [relativePath, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, relativePath)), { recursive: true });
    await writeFile(path.join(root, relativePath), content);
  }
}
