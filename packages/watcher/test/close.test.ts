import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChokidarWatcher } from '../src/index';
import { EventLog, makeTempDir, removeTempDir, waitFor } from './helpers';

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

describe('ChokidarWatcher.close', () => {
  for (const pollIntervalMs of [false, 50] as const) {
    it(`releases every watch handle (pollIntervalMs: ${pollIntervalMs}), so the process can exit`, async () => {
      const root = await tree();
      const baseline = watchHandles();
      const watcher = new ChokidarWatcher({ root, pollIntervalMs });
      await watcher.start();
      expect(watchHandles()).toBeGreaterThan(baseline);
      await watcher.close();
      await waitFor(() => watchHandles() === baseline, `watch handles back to ${baseline}`);
    });
  }

  it('releases the handles of both instances when closed during a rules swap', async () => {
    const root = await tree();
    const baseline = watchHandles();
    const watcher = new ChokidarWatcher({ root });
    const log = new EventLog(watcher);
    await watcher.start();
    await writeFile(path.join(root, '.syncignore'), 'c/\n');
    await log.waitForPath('add', '.syncignore');
    await watcher.close();
    await waitFor(() => watchHandles() === baseline, `watch handles back to ${baseline}`);
  });
});
