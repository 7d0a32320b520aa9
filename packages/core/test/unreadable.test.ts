import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeFileSystem } from '../src/index';
import type { EntryType, ReadHandle } from '../src/index';
import { Cluster, waitFor } from './cluster';

/** The real filesystem, but some files refuse to be read (a lock, missing permission) until released. */
class LockingDisk extends NodeFileSystem {
  readonly locked = new Set<string>();
  refusals = 0;

  override async openRead(path: string): Promise<ReadHandle> {
    if ([...this.locked].some((name) => path.endsWith(`/${name}`))) {
      this.refusals++;
      throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
    }
    return super.openRead(path);
  }
}

/** The real filesystem, but directories with these names cannot be listed. */
class UnlistableDisk extends NodeFileSystem {
  readonly unlistable = new Set<string>();

  override async readdir(path: string): Promise<{ name: string; type: EntryType }[]> {
    if ([...this.unlistable].some((name) => path.endsWith(`/${name}`))) {
      throw Object.assign(new Error(`EACCES: permission denied, scandir '${path}'`), { code: 'EACCES' });
    }
    return super.readdir(path);
  }
}

describe('a directory the node cannot list at start-up', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
  });

  it('is counted as an error, and every directory listed around it is still indexed and synced', async () => {
    const disk = new UnlistableDisk();
    cluster = new Cluster('memory');
    await cluster.init();
    const dirA = cluster.dirOf('a');
    // Siblings on both sides of the unlistable one, and nested: each listing is asked for ahead of its walk.
    for (const dir of ['d1', 'd2/inner', 'locked', 'd3', 'd4/inner/deeper']) {
      await mkdir(join(dirA, dir), { recursive: true });
      await writeFile(join(dirA, dir, `${dir.replaceAll('/', '-')}.txt`), dir);
    }
    disk.unlistable.add('locked');
    const a = await cluster.add('a', { fileSystem: disk });
    const b = await cluster.add('b', { peers: ['a'] });
    for (const dir of ['d1', 'd2/inner', 'd3', 'd4/inner/deeper']) {
      const file = join(dir, `${dir.replaceAll('/', '-')}.txt`);
      await waitFor(async () => (await readFile(join(b.dir, file), 'utf8').catch(() => '')) === dir, `${file} on b`);
    }
    expect(a.node.status().errors).toBeGreaterThanOrEqual(1);
    await expect(readFile(join(b.dir, 'locked', 'locked.txt'))).rejects.toThrow();
  });
});

describe('a file the node cannot read', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
  });

  it('is reported once, shown in the status, retried, and synced once readable', async () => {
    const disk = new LockingDisk();
    cluster = new Cluster('memory', { limits: { retryDelayMs: 100 } });
    await cluster.init();
    const a = await cluster.add('a', { fileSystem: disk });
    const b = await cluster.add('b', { peers: ['a'] });
    const errors: string[] = [];
    a.node.on('error', (error) => errors.push(error.message));
    disk.locked.add('locked.txt');
    await writeFile(join(a.dir, 'locked.txt'), 'content behind a lock');
    await writeFile(join(a.dir, 'open.txt'), 'readable');
    await waitFor(async () => (await readFile(join(b.dir, 'open.txt'), 'utf8').catch(() => '')) === 'readable', 'the readable file');
    await waitFor(() => a.node.status().failingPaths === 1, 'the failing path in the status');
    await waitFor(() => disk.refusals >= 3, 'several retries');
    expect(errors.filter((m) => m.includes('locked.txt'))).toHaveLength(1);
    expect(errors[0]).toMatch(/EACCES/);

    disk.locked.clear();
    await waitFor(async () => (await readFile(join(b.dir, 'locked.txt'), 'utf8').catch(() => '')) === 'content behind a lock', 'the file once unlocked');
    expect(a.node.status().failingPaths).toBe(0);
  });
});
