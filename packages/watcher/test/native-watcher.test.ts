import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NativeWatcher } from '../src/index';
import type { WatcherOptions } from '../src/index';
import { Scratch, waitFor } from './helpers';

// What NativeWatcher must get right beyond the shared contract: directories that arrive full,
// vanish, move, or change ignore status, with exactly one fs.watch per watched directory.
const scratch = new Scratch();
afterEach(() => scratch.cleanUp());

const create = (options: WatcherOptions): NativeWatcher => new NativeWatcher(options);

function nestedFiles(top: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (let d = 0; d < 3; d += 1) {
    for (let e = 0; e < 3; e += 1) {
      for (let f = 0; f < 4; f += 1) files[`${top}/d${d}/e${e}/f${f}.txt`] = `${d}${e}${f}`;
    }
  }
  return files;
}

describe.runIf(process.platform === 'linux')('NativeWatcher', () => {
  it('watches each directory once at start, but not the state dir or ignored directories', async () => {
    const { watcher } = await scratch.setup(create, {
      'a/b/c/f.txt': 'x',
      'd/g.txt': 'x',
      '.sync/tmp/part': 'x',
      'custom/state.json': 'x',
      'build/out/o.js': 'x',
      '.syncignore': 'build/\n',
    }, { ignoredPaths: ['custom'] });
    // The root, a, a/b, a/b/c and d.
    expect(watcher.watchedDirectoryCount).toBe(5);
  });

  it('reports every nested path of a tree moved in with one rename, and watches all of it', async () => {
    const files = nestedFiles('tree');
    const outside = await scratch.makeRoot(files);
    const { root, watcher, log } = await scratch.setup(create);
    await rename(path.join(outside, 'tree'), path.join(root, 'moved'));
    const moved = (relativePath: string): string => relativePath.replace(/^tree\//, 'moved/');
    for (const file of Object.keys(files)) await log.waitForPath('add', moved(file));
    for (const dir of new Set(Object.keys(files).map((file) => path.posix.dirname(moved(file))))) await log.waitForPath('addDir', dir);
    await log.waitForPath('addDir', 'moved/d0');
    await log.waitForPath('addDir', 'moved');
    // The root, moved, 3 d* and 9 e* directories.
    expect(watcher.watchedDirectoryCount).toBe(14);
    await writeFile(path.join(root, 'moved/d2/e2/late.txt'), 'x');
    await log.waitForPath('add', 'moved/d2/e2/late.txt');
  });

  it('reports files created in a new directory before its watch can have been attached', async () => {
    const { root, log } = await scratch.setup(create);
    // Synchronously: the directories are full before the watcher has heard of them.
    mkdirSync(path.join(root, 'fresh/sub'), { recursive: true });
    for (let index = 0; index < 40; index += 1) writeFileSync(path.join(root, 'fresh', `f${index}.txt`), 'x');
    for (let index = 0; index < 40; index += 1) writeFileSync(path.join(root, 'fresh/sub', `g${index}.txt`), 'x');
    for (let index = 0; index < 40; index += 1) {
      await log.waitForPath('add', `fresh/f${index}.txt`);
      await log.waitForPath('add', `fresh/sub/g${index}.txt`);
    }
    // And asynchronously, racing the watcher: each write lands just after its mkdir.
    for (let round = 0; round < 20; round += 1) {
      await mkdir(path.join(root, `race-${round}`));
      await Promise.all([0, 1, 2].map((index) => writeFile(path.join(root, `race-${round}`, `r${index}.txt`), 'x')));
    }
    for (let round = 0; round < 20; round += 1) {
      for (const index of [0, 1, 2]) await log.waitForPath('add', `race-${round}/r${index}.txt`);
    }
  });

  it('reports a deleted deep directory as unlinkDir, each level of it, and closes its watchers', async () => {
    const { root, watcher, log } = await scratch.setup(create, { 'deep/a/b/c/d/f.txt': 'x', 'keep/k.txt': 'x' });
    // The root, deep, a, b, c, d and keep.
    expect(watcher.watchedDirectoryCount).toBe(7);
    await rm(path.join(root, 'deep'), { recursive: true });
    await log.waitForPath('unlinkDir', 'deep');
    for (const dir of ['deep/a', 'deep/a/b', 'deep/a/b/c', 'deep/a/b/c/d']) expect(log.has('unlinkDir', dir)).toBe(true);
    expect(log.has('unlink', 'deep/a/b/c/d/f.txt')).toBe(true);
    await waitFor(() => watcher.watchedDirectoryCount === 2, 'only the root and keep watched');
    await writeFile(path.join(root, 'keep/after.txt'), 'x');
    await log.waitForPath('add', 'keep/after.txt');
  });

  it('follows a directory renamed within the tree: later writes are reported under the new path only', async () => {
    const { root, watcher, log, sentinel } = await scratch.setup(create, { 'old/inner/a.txt': 'x', 'other/o.txt': 'x' });
    // The root, old, old/inner and other.
    expect(watcher.watchedDirectoryCount).toBe(4);
    await rename(path.join(root, 'old'), path.join(root, 'other/new'));
    await log.waitForPath('unlinkDir', 'old');
    await log.waitForPath('addDir', 'other/new');
    await writeFile(path.join(root, 'other/new/inner/b.txt'), 'x');
    await log.waitForPath('add', 'other/new/inner/b.txt');
    await writeFile(path.join(root, 'other/new/c.txt'), 'x');
    await log.waitForPath('add', 'other/new/c.txt');
    await sentinel();
    expect(log.paths().filter((p) => p.startsWith('old/'))).toEqual([]);
    expect(watcher.watchedDirectoryCount).toBe(4);
  });

  it('ends up watching a directory renamed back and forth, under its final name only', async () => {
    const { root, watcher, log } = await scratch.setup(create, { 'ping/inner/x.txt': 'x' });
    for (let round = 0; round < 25; round += 1) {
      renameSync(path.join(root, round % 2 === 0 ? 'ping' : 'pong'), path.join(root, round % 2 === 0 ? 'pong' : 'ping'));
    }
    // 25 renames: it ends as pong.
    await log.waitForPath('addDir', 'pong');
    await writeFile(path.join(root, 'pong/inner/final.txt'), 'x');
    await log.waitForPath('add', 'pong/inner/final.txt');
    await waitFor(() => watcher.watchedDirectoryCount === 3, 'the root, pong and pong/inner watched');
    expect(log.has('add', 'ping/inner/final.txt')).toBe(false);
  });

  it('stops watching a directory replaced by a file of the same name', async () => {
    const { root, watcher, log } = await scratch.setup(create, { 'swap/inner/x.txt': 'x' });
    expect(watcher.watchedDirectoryCount).toBe(3);
    await rm(path.join(root, 'swap'), { recursive: true });
    await writeFile(path.join(root, 'swap'), 'now a file');
    await log.waitForPath('add', 'swap');
    await waitFor(() => watcher.watchedDirectoryCount === 1, 'only the root watched');
  });

  it('releases what a changed .syncignore ignores and watches what it un-ignores', async () => {
    const { root, watcher, log, sentinel } = await scratch.setup(create, { 'build/out/x.js': 'x', 'src/a.ts': 'x' });
    expect(watcher.watchedDirectoryCount).toBe(4);
    await writeFile(path.join(root, '.syncignore'), 'build/\n');
    await waitFor(() => watcher.watchedDirectoryCount === 2, 'build and build/out released');
    await writeFile(path.join(root, 'build/out/hidden.js'), 'x');
    await sentinel();
    expect(log.paths()).not.toContain('build/out/hidden.js');

    await writeFile(path.join(root, '.syncignore'), '# nothing ignored\n');
    await waitFor(() => watcher.watchedDirectoryCount === 4, 'build and build/out watched again');
    await writeFile(path.join(root, 'build/out/visible.js'), 'x');
    await log.waitForPath('add', 'build/out/visible.js');
  });

  it('never watches or reports the state dir, however busy', async () => {
    const { root, watcher, log, sentinel } = await scratch.setup(create);
    await mkdir(path.join(root, '.sync/tmp'), { recursive: true });
    await Promise.all(Array.from({ length: 100 }, (_, index) => writeFile(path.join(root, '.sync/tmp', `part-${index}`), 'x')));
    await rename(path.join(root, '.sync/tmp/part-0'), path.join(root, '.sync/index.json'));
    await sentinel();
    expect(log.paths().filter((p) => p === '.sync' || p.startsWith('.sync/'))).toEqual([]);
    expect(watcher.watchedDirectoryCount).toBe(1);
  });

  it('reports ROOT_MISSING once and releases every watcher when the root is removed', async () => {
    const { root, watcher, log } = await scratch.setup(create, { 'a/b/c.txt': 'x' });
    await rm(root, { recursive: true });
    await log.waitForEvent((event) => event.type === 'error' && event.error.code === 'ROOT_MISSING', 'ROOT_MISSING error');
    await waitFor(() => watcher.watchedDirectoryCount === 0, 'no watcher left');
    expect(log.events.filter((event) => event.type === 'error')).toHaveLength(1);
  });
});
