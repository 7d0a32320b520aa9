import { writeFileSync } from 'node:fs';
import { mkdir, rename, rm, rmdir, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WatcherOptions } from '../src/index';
import { EventLog, implementations, Scratch } from './helpers';
import type { Fixture } from './helpers';

// The contract every Watcher keeps, run against each implementation on real files.
const scratch = new Scratch();
afterEach(() => scratch.cleanUp());

for (const { name, create } of implementations) describe(name, () => {
  const makeRoot = (files: Record<string, string> = {}): Promise<string> => scratch.makeRoot(files);
  const watch = (root: string, options: Partial<WatcherOptions> = {}): Promise<Fixture> => scratch.watch(create, root, options);
  const setup = (files: Record<string, string> = {}, options: Partial<WatcherOptions> = {}): Promise<Fixture> => scratch.setup(create, files, options);

  it('reports a file being created, modified and deleted, with relative POSIX paths', async () => {
    const { root, log } = await setup();
    expect(log.describe()).toEqual(['ready']);

    await writeFile(path.join(root, 'a.txt'), 'one');
    await log.waitForPath('add', 'a.txt');
    await writeFile(path.join(root, 'a.txt'), 'two');
    await log.waitForPath('change', 'a.txt');
    await unlink(path.join(root, 'a.txt'));
    await log.waitForPath('unlink', 'a.txt');

    for (const event of log.pathEvents()) expect(event.path).toBe('a.txt');
  });

  it('does not report what existed before start (the engine walks the tree itself)', async () => {
    const { log, sentinel } = await setup({ 'old.txt': 'x', 'dir/nested.txt': 'y' });
    await sentinel();
    // Only the sentinel; chokidar reports its creation as one add, inotify as add then change.
    expect(new Set(log.paths())).toEqual(new Set(['sentinel-1.txt']));
  });

  it('reports a rename as unlink of the old path and add of the new one', async () => {
    const { root, log } = await setup({ 'before.txt': 'content' });
    await rename(path.join(root, 'before.txt'), path.join(root, 'after.txt'));
    await log.waitForPath('unlink', 'before.txt');
    await log.waitForPath('add', 'after.txt');
  });

  it('reports nested and empty directories, files inside a new nested directory, and their removal', async () => {
    const { root, log } = await setup();
    await mkdir(path.join(root, 'a/b/c'), { recursive: true });
    await writeFile(path.join(root, 'a/b/c/deep.txt'), 'deep');
    await mkdir(path.join(root, 'empty'));
    await log.waitForPath('addDir', 'a');
    await log.waitForPath('addDir', 'a/b');
    await log.waitForPath('addDir', 'a/b/c');
    await log.waitForPath('add', 'a/b/c/deep.txt');
    await log.waitForPath('addDir', 'empty');

    await rmdir(path.join(root, 'empty'));
    await log.waitForPath('unlinkDir', 'empty');
    await rm(path.join(root, 'a'), { recursive: true });
    await log.waitForPath('unlink', 'a/b/c/deep.txt');
    await log.waitForPath('unlinkDir', 'a/b/c');
    await log.waitForPath('unlinkDir', 'a');
    expect(log.paths()).not.toContain('');
  });

  it('reports the contents of a directory moved in from outside the root', async () => {
    const outside = await makeRoot({ 'moved/inner/file.txt': 'x' });
    const { root, log } = await setup();
    await rename(path.join(outside, 'moved'), path.join(root, 'moved'));
    await log.waitForPath('addDir', 'moved');
    await log.waitForPath('addDir', 'moved/inner');
    await log.waitForPath('add', 'moved/inner/file.txt');
  });

  it('never reports paths matched by .syncignore: patterns, dir/ rules, negation', async () => {
    const { root, log, sentinel } = await setup({ '.syncignore': '*.log\n!keep.log\nbuild/\n/top-only.txt\n' });
    await writeFile(path.join(root, 'noise.log'), 'x');
    await mkdir(path.join(root, 'sub'));
    await writeFile(path.join(root, 'sub/deeper.log'), 'x');
    await mkdir(path.join(root, 'build/out'), { recursive: true });
    await writeFile(path.join(root, 'build/out/app.js'), 'x');
    await mkdir(path.join(root, 'sub/build'));
    await writeFile(path.join(root, 'sub/build/x.js'), 'x');
    await writeFile(path.join(root, 'top-only.txt'), 'x');
    await writeFile(path.join(root, 'keep.log'), 'kept');
    await writeFile(path.join(root, 'sub/top-only.txt'), 'not anchored here');
    await sentinel();

    await log.waitForPath('add', 'keep.log');
    await log.waitForPath('add', 'sub/top-only.txt');
    const seen = log.paths();
    for (const hidden of ['noise.log', 'sub/deeper.log', 'build', 'build/out', 'build/out/app.js', 'sub/build', 'sub/build/x.js', 'top-only.txt']) {
      expect(seen).not.toContain(hidden);
    }
  });

  it('a dir/ rule hides directories only, not a file of that name', async () => {
    const { root, log } = await setup({ '.syncignore': 'dist/\n' });
    await writeFile(path.join(root, 'dist'), 'a file, not a directory');
    await log.waitForPath('add', 'dist');
  });

  it('never reports the state dir .sync or other ignoredPaths, however busy they are', async () => {
    const { root, log, sentinel } = await setup({}, { ignoredPaths: ['custom-state/', './other'] });
    for (const dir of ['.sync', '.sync/tmp', 'custom-state', 'other/deep']) await mkdir(path.join(root, dir), { recursive: true });
    const writes: Array<Promise<void>> = [];
    for (let index = 0; index < 200; index += 1) {
      writes.push(writeFile(path.join(root, '.sync', `index-${index}.json`), String(index)));
      writes.push(writeFile(path.join(root, '.sync/tmp', `part-${index}`), String(index)));
      if (index % 10 === 0) writes.push(writeFile(path.join(root, 'custom-state', `s-${index}`), 'x'));
    }
    await Promise.all(writes);
    await writeFile(path.join(root, 'other/deep/file.txt'), 'x');
    await writeFile(path.join(root, '.sync/index-0.json'), 'rewritten');
    await unlink(path.join(root, '.sync/tmp/part-1'));
    await writeFile(path.join(root, '.synced-but-not-state.txt'), 'a sibling with a similar name is reported');
    await sentinel();

    await log.waitForPath('add', '.synced-but-not-state.txt');
    const leaked = log.paths().filter((p) => p === '.sync' || p.startsWith('.sync/') || p.startsWith('custom-state') || p.startsWith('other'));
    expect(leaked).toEqual([]);
  });

  it('reports .syncignore itself and applies a changed .syncignore to the events that follow', async () => {
    const { root, log, sentinel } = await setup();
    await writeFile(path.join(root, 'first.tmp'), 'x');
    await log.waitForPath('add', 'first.tmp');

    await writeFile(path.join(root, '.syncignore'), '*.tmp\n');
    await log.waitForPath('add', '.syncignore');
    await writeFile(path.join(root, 'second.tmp'), 'x');
    await sentinel();
    expect(log.paths()).not.toContain('second.tmp');

    await writeFile(path.join(root, '.syncignore'), '*.bak\n');
    await log.waitForPath('change', '.syncignore');
    await writeFile(path.join(root, 'third.tmp'), 'x');
    await log.waitForPath('add', 'third.tmp');

    await unlink(path.join(root, '.syncignore'));
    await log.waitForPath('unlink', '.syncignore');
    await writeFile(path.join(root, 'fourth.bak'), 'x');
    await log.waitForPath('add', 'fourth.bak');
  });

  it('starts watching a directory that a changed .syncignore no longer ignores', async () => {
    const { root, log, sentinel } = await setup({ '.syncignore': 'build/\n', 'build/old.js': 'x' });
    await writeFile(path.join(root, 'build/hidden.js'), 'x');
    await sentinel();
    expect(log.paths()).not.toContain('build/hidden.js');

    await writeFile(path.join(root, '.syncignore'), '# nothing ignored any more\n');
    await log.waitForPath('change', '.syncignore');
    await writeFile(path.join(root, 'build/visible.js'), 'x');
    await log.waitForPath('add', 'build/visible.js');
    await writeFile(path.join(root, 'build/old.js'), 'changed');
    await log.waitForPath('change', 'build/old.js');
  });

  it('reloads a .syncignore that ignores itself, without reporting it', async () => {
    const { root, log, sentinel } = await setup({ '.syncignore': '.syncignore\n' });
    await writeFile(path.join(root, '.syncignore'), '.syncignore\n*.tmp\n');
    await writeFile(path.join(root, 'late.tmp'), 'x');
    await sentinel();
    // The reload completes before later events are delivered, so the sentinel proves it happened.
    await writeFile(path.join(root, 'later.tmp'), 'x');
    await sentinel();
    expect(log.paths()).not.toContain('.syncignore');
    expect(log.paths()).not.toContain('later.tmp');
  });

  it('loses no event that happens while the rules are being swapped', async () => {
    // A regression test: retiring the old chokidar instance at once lost files created while the
    // new one was crawling; NativeWatcher re-walks at that moment. The varying number of turns
    // moves the write across that window.
    const { root, log } = await setup({ '.syncignore': '# version 0\n' });
    const rounds = 60;
    for (let round = 1; round <= rounds; round += 1) {
      await writeFile(path.join(root, '.syncignore'), `# version ${round}\n*.tmp\n`);
      for (let turn = 0; turn < round % 7; turn += 1) await new Promise((resolve) => setImmediate(resolve));
      await writeFile(path.join(root, `during-${round}.txt`), 'x');
      await log.waitForPath('add', `during-${round}.txt`);
    }
  });

  it('uses a custom ignore file name', async () => {
    const { root, log, sentinel } = await setup({ '.myignore': 'secret*\n', '.syncignore': 'visible*\n' }, { ignoreFileName: '.myignore' });
    await writeFile(path.join(root, 'secret.txt'), 'x');
    await writeFile(path.join(root, 'visible.txt'), 'x');
    await log.waitForPath('add', 'visible.txt');
    await sentinel();
    expect(log.paths()).not.toContain('secret.txt');
  });

  // chokidar drops further changes of a file for 50 ms after reporting one (see trailing-change.ts).
  it('reports a write that lands right after a reported change', async () => {
    const { root, watcher, log } = await setup({ 'burst.txt': 'zero' });
    const file = path.join(root, 'burst.txt');
    let rewritten = false;
    watcher.on((event) => {
      if (rewritten || event.type !== 'change' || event.path !== 'burst.txt') return;
      rewritten = true;
      // Synchronously, so it lands well inside the window in which chokidar would drop it.
      writeFileSync(file, 'the final content, longer than before');
    });
    await writeFile(file, 'one');
    const first = await log.waitForPath('change', 'burst.txt');
    await log.waitForPath('change', 'burst.txt', first + 1);
  });

  it('reports paths in NFC even when the name on disk is NFD', async () => {
    const { root, log } = await setup();
    const nfd = 'Cafe\u0301.txt';
    await writeFile(path.join(root, nfd), 'x');
    await log.waitForPath('add', 'Caf\u00e9.txt');
  });

  it('reports a symlink as a file without following it', async () => {
    const outside = await makeRoot({ 'target/inside.txt': 'x' });
    const { root, log, sentinel } = await setup();
    await symlink(path.join(outside, 'target'), path.join(root, 'link'));
    await log.waitForPath('add', 'link');
    await writeFile(path.join(outside, 'target/new.txt'), 'x');
    await sentinel();
    expect(log.paths().filter((p) => p.startsWith('link/'))).toEqual([]);
  });

  it('keeps delivering when a listener throws, and reports the failure as a warning', async () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    scratch.defer(async () => warnings.mockRestore());
    const root = await makeRoot();
    const watcher = create({ root });
    scratch.defer(() => watcher.close());
    watcher.on(() => {
      throw new Error('listener bug');
    });
    const log = new EventLog(watcher);
    await watcher.start();
    await writeFile(path.join(root, 'one.txt'), 'x');
    await log.waitForPath('add', 'one.txt');
    await writeFile(path.join(root, 'two.txt'), 'x');
    await log.waitForPath('add', 'two.txt');
    const codes = warnings.mock.calls.map(([warning]) => (warning instanceof Error && 'code' in warning ? warning.code : null));
    expect(codes).toContain('LISTENER_FAILED');
  });

  it('stops delivering to an unsubscribed listener', async () => {
    const { root, watcher, log } = await setup();
    const other = new EventLog(watcher);
    other.unsubscribe();
    await writeFile(path.join(root, 'x.txt'), 'x');
    await log.waitForPath('add', 'x.txt');
    expect(other.events).toEqual([]);
  });

  it('start() is idempotent and emits ready once', async () => {
    const { watcher, log } = await setup();
    await watcher.start();
    expect(log.events.filter((event) => event.type === 'ready')).toHaveLength(1);
  });

  it('rejects start() for a missing root and for a file', async () => {
    const parent = await makeRoot({ 'file.txt': 'x' });
    await expect(create({ root: path.join(parent, 'missing') }).start()).rejects.toMatchObject({ name: 'WatcherError', code: 'ROOT_MISSING' });
    await expect(create({ root: path.join(parent, 'file.txt') }).start()).rejects.toMatchObject({ name: 'WatcherError', code: 'ROOT_NOT_DIRECTORY' });
  });

  it('rejects start() when .syncignore cannot be read', async () => {
    const root = await makeRoot();
    await mkdir(path.join(root, '.syncignore'));
    const watcher = create({ root });
    scratch.defer(() => watcher.close());
    await expect(watcher.start()).rejects.toMatchObject({ name: 'WatcherError', code: 'IGNORE_FILE_UNREADABLE' });
  });

  it('rejects invalid options in the constructor', () => {
    expect(() => create({ root: 'relative/dir' })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => create({ root: '/tmp', pollIntervalMs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => create({ root: '/tmp', ignoredPaths: ['../outside'] })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => create({ root: '/tmp', ignoreFileName: 'sub/.syncignore' })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('reports an error when the root itself is removed', async () => {
    const { root, log } = await setup({ 'a.txt': 'x' });
    await rm(root, { recursive: true });
    await log.waitForEvent((event) => event.type === 'error' && event.error.code === 'ROOT_MISSING', 'ROOT_MISSING error');
    expect(log.paths()).not.toContain('');
  });

  it('delivers nothing after close(), and close() is idempotent', async () => {
    const root = await makeRoot();
    const closing = await watch(root);
    const witness = await watch(root);
    await Promise.all([closing.watcher.close(), closing.watcher.close()]);
    await closing.watcher.close();
    const before = closing.log.events.length;
    await writeFile(path.join(root, 'after-close.txt'), 'x');
    await witness.log.waitForPath('add', 'after-close.txt');
    expect(closing.log.events.length).toBe(before);
  });

  it('rejects start() after close() and when closed during the initial crawl', async () => {
    const root = await makeRoot({ 'a/b/c.txt': 'x' });
    const closedFirst = create({ root });
    await closedFirst.close();
    await expect(closedFirst.start()).rejects.toMatchObject({ code: 'CLOSED' });

    const closedDuring = create({ root });
    const starting = closedDuring.start();
    await closedDuring.close();
    await expect(starting).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
