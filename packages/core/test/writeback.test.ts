import { afterEach, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { NodeFileSystem } from '../src/index';
import type { WriteHandle } from '../src/index';
import { Cluster, tempFiles, waitFor } from './cluster';

/** The real filesystem, logging each pulled file's writes and syncs; a sync can be made to fail. */
class SyncLog extends NodeFileSystem {
  readonly log: ('write' | 'sync')[] = [];
  syncFailures = 0;
  /** Blocks written to the file when a sync was made to fail. */
  writesAtFailure: number | null = null;

  override async openWrite(path: string): Promise<WriteHandle> {
    const handle = await super.openWrite(path);
    return {
      write: async (data, position) => {
        this.log.push('write');
        await handle.write(data, position);
      },
      sync: async () => {
        this.log.push('sync');
        if (this.syncFailures > 0) {
          this.syncFailures--;
          this.writesAtFailure = this.log.filter((entry) => entry === 'write').length;
          throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
        }
        await handle.sync();
      },
      close: () => handle.close(),
    };
  }
}

describe('syncing a large pulled file while it is written', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
  });

  async function pair(disk: SyncLog) {
    cluster = new Cluster('ws', { limits: { retryDelayMs: 200, writebackBytes: 1024 * 1024 } });
    await cluster.init();
    const a = await cluster.add('a');
    const b = await cluster.add('b', { fileSystem: disk, peers: ['a'] });
    await waitFor(() => b.node.status().peers.length === 1, 'connected');
    return { a, b };
  }

  it('syncs in the background once writebackBytes are written, before its last block, and the file arrives intact', async () => {
    const disk = new SyncLog();
    const { a, b } = await pair(disk);
    const content = randomBytes(6 * 1024 * 1024 + 5); // 49 blocks of 128 KiB
    await writeFile(join(a.dir, 'big.bin'), content);
    await waitFor(async () => (await readFile(join(b.dir, 'big.bin')).catch(() => null))?.equals(content) ?? false, 'the file on b');

    const lastWrite = disk.log.lastIndexOf('write');
    const syncsBeforeLastWrite = disk.log.slice(0, lastWrite).filter((entry) => entry === 'sync').length;
    // One background sync runs at a time, so on a fast disk they may be fewer than 6.
    expect(syncsBeforeLastWrite).toBeGreaterThanOrEqual(1);
    expect(disk.log.at(-1)).toBe('sync'); // the final one, after every write
  });

  it('fails the transfer when a background sync fails, and the retry brings the file intact', async () => {
    const disk = new SyncLog();
    disk.syncFailures = 1; // the first background sync: Linux reports a writeback error once only
    const { a, b } = await pair(disk);
    const errors: string[] = [];
    b.node.on('error', (error) => errors.push(error.message));
    const content = randomBytes(6 * 1024 * 1024 + 5);
    await writeFile(join(a.dir, 'big.bin'), content);

    await waitFor(() => errors.some((e) => e.includes('EIO')), 'the sync error');
    expect(disk.writesAtFailure).toBeLessThan(49); // a background sync, not the final one
    await waitFor(async () => (await readFile(join(b.dir, 'big.bin')).catch(() => null))?.equals(content) ?? false, 'the retried transfer');
    await waitFor(async () => (await tempFiles(b.dir)).length === 0, 'temp files cleaned up');
  });
});
