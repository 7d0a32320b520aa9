import { afterEach, describe, expect, it } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { NodeFileSystem } from '../src/index';
import type { WriteHandle } from '../src/index';
import { Cluster, tempFiles, waitFor } from './cluster';

/** The real filesystem with a quota on bytes written: past it, writes fail as a full disk does. */
class FullDisk extends NodeFileSystem {
  quotaBytes = Number.POSITIVE_INFINITY;
  usedBytes = 0;

  override async openWrite(path: string): Promise<WriteHandle> {
    const handle = await super.openWrite(path);
    return {
      write: async (data, position) => {
        if (this.usedBytes + data.byteLength > this.quotaBytes) {
          throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
        }
        this.usedBytes += data.byteLength;
        await handle.write(data, position);
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  }
}

describe('a full disk on the receiving node', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
  });

  it('reports the error, shows no partial file, leaves no temp file, and finishes once space is back', async () => {
    const disk = new FullDisk();
    cluster = new Cluster('memory');
    await cluster.init();
    const a = await cluster.add('a');
    const b = await cluster.add('b', { fileSystem: disk, peers: ['a'] });
    await waitFor(() => b.node.status().peers.length === 1, 'connected');
    const errors: string[] = [];
    b.node.on('error', (error) => errors.push(`${error.code} ${error.message}`));

    disk.quotaBytes = disk.usedBytes + 512 * 1024;
    const big = randomBytes(3 * 1024 * 1024);
    await writeFile(join(a.dir, 'big.bin'), big);
    await waitFor(() => errors.some((e) => e.includes('ENOSPC')), 'the disk-full error');
    expect(await readdir(b.dir)).not.toContain('big.bin');
    await waitFor(async () => (await tempFiles(b.dir)).length === 0, 'temp files cleaned up');

    disk.quotaBytes = Number.POSITIVE_INFINITY; // the user freed some space
    await waitFor(async () => (await readFile(join(b.dir, 'big.bin')).catch(() => null))?.equals(big) ?? false, 'the retried transfer', 30_000);
  });
});
