import { mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChokidarWatcher } from '../src/index';
import type { WatcherOptions } from '../src/index';
import { Scratch } from './helpers';

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
