import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, readdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeFileSystem } from '../src/index';
import type { WriteHandle } from '../src/index';
import { Cluster, tempFiles, waitFor } from './cluster';

/** The real filesystem, running `beforeSync` once, as the first pulled file is made durable. */
class SwapOnSync extends NodeFileSystem {
  beforeSync: (() => Promise<void>) | null = null;

  override async openWrite(path: string): Promise<WriteHandle> {
    const handle = await super.openWrite(path);
    if (!path.endsWith('.part')) return handle;
    return {
      write: (data, position) => handle.write(data, position),
      sync: async () => {
        const hook = this.beforeSync;
        this.beforeSync = null;
        await hook?.();
        await handle.sync();
      },
      close: () => handle.close(),
    };
  }
}

describe('a parent directory replaced by a link while a file is pulled into it', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
  });

  it('never places the file through the link, and leaves no temp file', async () => {
    cluster = new Cluster('ws', { limits: { retryDelayMs: 200 } });
    await cluster.init();
    const disk = new SwapOnSync();
    const a = await cluster.add('a');
    const b = await cluster.add('b', { fileSystem: disk, peers: ['a'] });
    await waitFor(() => b.node.status().peers.length === 1, 'connected');
    await mkdir(join(a.dir, 'sub'));
    await waitFor(() => b.node.status().directories === 1, 'sub on b');

    const outside = cluster.dirOf('outside');
    await mkdir(outside);
    const errors: string[] = [];
    b.node.on('error', (error) => errors.push(error.message));
    // After the checks a transfer makes before it starts, before its commit.
    disk.beforeSync = async () => {
      await rename(join(b.dir, 'sub'), join(b.dir, 'sub-was'));
      await symlink(outside, join(b.dir, 'sub'));
    };
    await writeFile(join(a.dir, 'sub/f.txt'), 'must stay inside the folder');

    const refused = () => errors.some((message) => message.includes('not a directory'));
    await waitFor(async () => refused() || (await readdir(outside)).length > 0, 'the commit refused, or the file outside');
    expect(disk.beforeSync).toBeNull(); // the swap did happen mid-transfer
    expect(await readdir(outside)).toEqual([]);
    expect(refused()).toBe(true);
    await waitFor(async () => (await tempFiles(b.dir)).length === 0, 'the temp file removed');
    expect(await readdir(outside)).toEqual([]);
  });
});
