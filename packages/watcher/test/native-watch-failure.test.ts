import type * as fs from 'node:fs';
import type { FSWatcher, PathLike, WatchOptions } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NativeWatcher } from '../src/index';
import type { WatchEvent } from '../src/index';
import { Scratch } from './helpers';

// Running out of inotify watches cannot be provoked on a shared machine (the limit is per user),
// so fs.watch fails as the kernel would for directories with this marker in their name.
const exhausted = 'no-watches-left';

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof fs>();
  const watch = (target: PathLike, options: WatchOptions): FSWatcher => {
    if (String(target).includes(exhausted)) {
      throw Object.assign(new Error(`ENOSPC: System limit for number of file watchers reached, watch '${String(target)}'`), { code: 'ENOSPC', syscall: 'watch' });
    }
    return actual.watch(target, options);
  };
  return { ...actual, watch };
});

const scratch = new Scratch();
afterEach(() => scratch.cleanUp());

describe.runIf(process.platform === 'linux')('NativeWatcher out of inotify watches', () => {
  it('reports WATCH_FAILED once, saying what to raise, and keeps watching everything else', async () => {
    const { root, watcher, log } = await scratch.setup((options) => new NativeWatcher(options), {
      [`${exhausted}-1/a.txt`]: 'x',
      [`${exhausted}-2/b.txt`]: 'x',
      'fine/c.txt': 'x',
    });
    const failures = (): Array<Extract<WatchEvent, { type: 'error' }>> => log.events.filter((event) => event.type === 'error');
    expect(failures()).toHaveLength(1);
    expect(failures()[0]?.error).toMatchObject({ name: 'WatcherError', code: 'WATCH_FAILED' });
    expect(failures()[0]?.error.message).toContain('fs.inotify.max_user_watches');
    // The root and fine.
    expect(watcher.watchedDirectoryCount).toBe(2);

    await mkdir(path.join(root, `${exhausted}-3`));
    await log.waitForPath('addDir', `${exhausted}-3`);
    await writeFile(path.join(root, 'fine/d.txt'), 'x');
    await log.waitForPath('add', 'fine/d.txt');
    expect(failures()).toHaveLength(1);
  });
});
