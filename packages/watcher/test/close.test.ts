import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChokidarWatcher } from '../src/index';
import type { WatcherOptions } from '../src/index';
import { EventLog, implementations, makeTempDir, removeTempDir, waitFor } from './helpers';

// Own file, so that no other test's watchers share this process's handle count.
const watchHandleTypes = new Set(['FSEventWrap', 'StatWatcher']);

function watchHandles(): number {
  return process.getActiveResourcesInfo().filter((type) => watchHandleTypes.has(type)).length;
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await removeTempDir(dir);
});

async function tree(): Promise<string> {
  const root = await makeTempDir();
  dirs.push(root);
  for (const dir of ['a/b', 'c']) await mkdir(path.join(root, dir), { recursive: true });
  for (const file of ['x.txt', 'a/y.txt', 'a/b/z.txt']) await writeFile(path.join(root, file), file);
  return root;
}

const variants: Array<{ name: string; create: (options: WatcherOptions) => { start(): Promise<void>; close(): Promise<void> } }> = [
  ...implementations,
  { name: 'ChokidarWatcher polling every 50 ms', create: (options) => new ChokidarWatcher({ ...options, pollIntervalMs: 50 }) },
];

for (const { name, create } of variants) {
  describe(`${name}.close`, () => {
    it('releases every watch handle, so the process can exit', async () => {
      const root = await tree();
      const baseline = watchHandles();
      const watcher = create({ root });
      await watcher.start();
      expect(watchHandles()).toBeGreaterThan(baseline);
      await watcher.close();
      await waitFor(() => watchHandles() === baseline, `watch handles back to ${baseline}`);
    });
  });
}

for (const { name, create } of implementations) {
  describe(`${name}.close`, () => {
    // ChokidarWatcher runs two chokidar instances for a second after a rules change.
    it('releases every handle when closed right after a rules change', async () => {
      const root = await tree();
      const baseline = watchHandles();
      const watcher = create({ root });
      const log = new EventLog(watcher);
      await watcher.start();
      await writeFile(path.join(root, '.syncignore'), 'c/\n');
      await log.waitForPath('add', '.syncignore');
      await watcher.close();
      await waitFor(() => watchHandles() === baseline, `watch handles back to ${baseline}`);
    });
  });
}
