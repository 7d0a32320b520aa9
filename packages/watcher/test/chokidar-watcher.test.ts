import fs, { mkdirSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, realpath, rename, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChokidarWatcher } from '../src/index';
import type { WatcherOptions } from '../src/index';
import { Scratch } from './helpers';
import type { Fixture } from './helpers';

// What only ChokidarWatcher does: polling. The contract it shares with NativeWatcher is in watcher-contract.test.ts.
const scratch = new Scratch();
afterEach(() => scratch.cleanUp());

const create = (options: WatcherOptions): ChokidarWatcher => new ChokidarWatcher(options);

describe('ChokidarWatcher in polling mode', () => {
  it('reports creation, change, deletion and directories at a 50 ms interval', async () => {
    const { root, log, sentinel } = await scratch.setup(create, { '.syncignore': 'ignored/\n' }, { pollIntervalMs: 50 });
    await writeFile(path.join(root, 'p.txt'), 'one');
    await log.waitForPath('add', 'p.txt');
    await writeFile(path.join(root, 'p.txt'), 'two, longer');
    await log.waitForPath('change', 'p.txt');
    await mkdir(path.join(root, 'dir/sub'), { recursive: true });
    await writeFile(path.join(root, 'dir/sub/q.txt'), 'q');
    await log.waitForPath('add', 'dir/sub/q.txt');
    await mkdir(path.join(root, 'ignored'));
    await writeFile(path.join(root, 'ignored/no.txt'), 'x');
    await mkdir(path.join(root, '.sync'));
    await writeFile(path.join(root, '.sync/state.json'), 'x');
    await unlink(path.join(root, 'p.txt'));
    await log.waitForPath('unlink', 'p.txt');
    await rm(path.join(root, 'dir'), { recursive: true });
    await log.waitForPath('unlinkDir', 'dir');
    await sentinel();
    expect(log.paths().filter((p) => p.startsWith('ignored') || p.startsWith('.sync'))).toEqual([]);
  });
});

describe('ChokidarWatcher polling, changes chokidar itself drops', () => {
  it('reports an mtime set back (touch -d, cp -p) and a chmod alone', async () => {
    const { root, log } = await scratch.setup(create, { 'old.txt': 'x', 'mode.txt': 'y' }, { pollIntervalMs: 50 });
    const past = new Date('2020-01-01T00:00:00Z');
    await utimes(path.join(root, 'old.txt'), past, past);
    await log.waitForPath('change', 'old.txt');
    await chmod(path.join(root, 'mode.txt'), 0o600);
    await log.waitForPath('change', 'mode.txt');
  });
});

/**
 * Holds back chokidar's fs.watchFile of each of `targets` until `release()`: the slow first stat
 * of a busy thread pool, made certain. chokidar binds node:fs at import, so the module's live
 * exports are synced after the swap.
 */
function holdWatchFile(...targets: string[]): { release: () => void; restore: () => void } {
  const original = fs.watchFile;
  const held: Array<() => void> = [];
  const holding = (file: fs.PathLike, ...rest: unknown[]): unknown => {
    const start = (): unknown => Reflect.apply(original, fs, [file, ...rest]);
    if (typeof file !== 'string' || !targets.includes(file)) return start();
    held.push(() => void start());
    return undefined;
  };
  fs.watchFile = holding as typeof fs.watchFile;
  syncBuiltinESMExports();
  return {
    release: () => {
      for (const start of held.splice(0)) start();
    },
    restore: () => {
      fs.watchFile = original;
      syncBuiltinESMExports();
    },
  };
}

describe('ChokidarWatcher polling, when a directory\'s first stat comes late', () => {
  it('reports and watches what arrived between ready and that stat (which takes it as the baseline)', async () => {
    const outside = await scratch.makeRoot({ 'a/x': 'x' });
    const root = await realpath(await scratch.makeRoot());
    const hold = holdWatchFile(root);
    try {
      const { log } = await scratch.watch(create, root, { pollIntervalMs: 50 });
      await rename(path.join(outside, 'a'), path.join(root, 'a'));
      hold.release();
      await log.waitForPath('addDir', 'a');
      await log.waitForPath('add', 'a/x');
      // Watched, not just reported once.
      await writeFile(path.join(root, 'a/late.txt'), 'late');
      await log.waitForPath('add', 'a/late.txt');
    } finally {
      hold.restore();
    }
  });

  it('reports a file changed or removed between the crawl and its own first stat', async () => {
    const root = await realpath(await scratch.makeRoot({ 'old.txt': 'x', 'mode.txt': 'y', 'gone.txt': 'z', 'same.txt': 's' }));
    const file = (name: string): string => path.join(root, name);
    const hold = holdWatchFile(root, file('old.txt'), file('mode.txt'), file('gone.txt'));
    try {
      const { log, sentinel } = await scratch.watch(create, root, { pollIntervalMs: 50 });
      const past = new Date('2020-01-01T00:00:00Z');
      await utimes(file('old.txt'), past, past);
      await chmod(file('mode.txt'), 0o600);
      await unlink(file('gone.txt'));
      // Each first stat now takes the file as it is after the change: chokidar alone never reports these.
      hold.release();
      await log.waitForPath('change', 'old.txt');
      await log.waitForPath('change', 'mode.txt');
      await log.waitForPath('unlink', 'gone.txt');
      await sentinel();
      expect(log.has('change', 'same.txt')).toBe(false);
    } finally {
      hold.restore();
    }
  });
});

/**
 * chokidar lists a new directory before it watches it. This one creates `a/b` at the worst moment,
 * from inside chokidar's listing of `a` (its ignore check of `a/x`), where `mkdir -p` on a busy
 * disk lands once in a few hundred runs.
 */
class ListingRaceWatcher extends ChokidarWatcher {
  constructor(options: WatcherOptions, duringListingOf: string, race: () => void) {
    super(options);
    const isPruned = this.gate.isPruned.bind(this.gate);
    let raced = false;
    this.gate.isPruned = (relativePath, isDirectory) => {
      if (!raced && relativePath === duringListingOf) {
        raced = true;
        race();
      }
      return isPruned(relativePath, isDirectory);
    };
  }
}

describe.each([false, 50] as const)('ChokidarWatcher (pollIntervalMs %s)', (pollIntervalMs) => {
  /** Creates `a/b/early.txt` while chokidar lists `a`, which holds `x`. */
  const watchRacing = (root: string): Promise<Fixture> =>
    scratch.watch(
      (options) =>
        new ListingRaceWatcher(options, 'a/x', () => {
          mkdirSync(path.join(root, 'a/b'));
          writeFileSync(path.join(root, 'a/b/early.txt'), 'early');
        }),
      root,
      { pollIntervalMs },
    );

  it('reports and watches what is created in a new directory while chokidar lists it', async () => {
    const outside = await scratch.makeRoot({ 'a/x': 'x' });
    const root = await scratch.makeRoot();
    const { log } = await watchRacing(root);
    // Moved in whole, so that chokidar's first listing of `a` already holds `x`.
    await rename(path.join(outside, 'a'), path.join(root, 'a'));
    await log.waitForPath('add', 'a/x');
    await log.waitForPath('addDir', 'a/b');
    await log.waitForPath('add', 'a/b/early.txt');
    // Watched, not just reported once: later changes inside it are seen too.
    await writeFile(path.join(root, 'a/b/late.txt'), 'late');
    await log.waitForPath('add', 'a/b/late.txt');
  });

  it('watches what is created in a directory while the initial crawl lists it', async () => {
    const root = await scratch.makeRoot({ 'a/x': 'x' });
    const { log } = await watchRacing(root);
    // Created after start() was called: reported or not, it must be watched from now on.
    await writeFile(path.join(root, 'a/b/late.txt'), 'late');
    await log.waitForPath('add', 'a/b/late.txt');
    expect(log.paths()).not.toContain('a/x');
  });
});
