import { afterEach, describe, expect, it } from 'vitest';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Watcher } from '@sync/watcher';
import type { SyncError } from '../src/index';
import { NodeFileSystem } from '../src/node-file-system';
import { Cluster, waitFor } from './cluster';

/** A watcher that reports nothing after it starts: every change is missed, as on an inotify queue overflow. */
const deafWatcher = (): Watcher => ({
  start: () => Promise.resolve(),
  on: () => () => {},
  close: () => Promise.resolve(),
});

/** Leaves `hidden` names out of listings, as a listing taken just before the puller renamed them into place would. */
class LateListingFileSystem extends NodeFileSystem {
  readonly hidden = new Set<string>();
  rootListings = 0;

  constructor(private readonly root: string) {
    super();
  }

  override async readdir(path: string): ReturnType<NodeFileSystem['readdir']> {
    if (path === this.root) this.rootListings++;
    return (await super.readdir(path)).filter((entry) => !this.hidden.has(entry.name));
  }
}

const countFiles = async (dir: string): Promise<number> => (await readdir(dir)).filter((name) => name.endsWith('.txt')).length;

describe('the periodic rescan', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  async function deafMesh(rescanIntervalMs: number): Promise<[string, string, Cluster]> {
    cluster = new Cluster('ws', { createWatcher: deafWatcher, limits: { retryDelayMs: 200, rescanIntervalMs } });
    await cluster.init();
    const [a, b] = await cluster.mesh(['a', 'b']);
    return [a!.dir, b!.dir, cluster];
  }

  it('finds a new file, an edit and a delete the watcher missed, and syncs them', async () => {
    const [a, b] = await deafMesh(200);
    await writeFile(join(a, 'missed.txt'), 'written while the watcher was deaf');
    await waitFor(async () => (await readFile(join(b, 'missed.txt'), 'utf8').catch(() => '')) === 'written while the watcher was deaf', 'the new file on b');
    await writeFile(join(a, 'missed.txt'), 'edited');
    await waitFor(async () => (await readFile(join(b, 'missed.txt'), 'utf8').catch(() => '')) === 'edited', 'the edit on b');
    await rm(join(b, 'missed.txt'));
    await waitFor(async () => (await countFiles(a)) === 0, 'the delete on a');
  });

  it('holds a mass delete it finds (a volume unmounted under a running node) instead of publishing it', async () => {
    const [a, b, running] = await deafMesh(200);
    for (let i = 0; i < 20; i++) await writeFile(join(a, `f${i}.txt`), `file ${i}`);
    await waitFor(async () => (await countFiles(b)) === 20, 'the files on b');
    const errors: SyncError[] = [];
    running.get('b').node.on('error', (error) => errors.push(error));
    for (let i = 0; i < 15; i++) await rm(join(b, `f${i}.txt`));
    await waitFor(() => running.get('b').node.status().heldDeletes !== null, 'b holds the deletes');
    expect(running.get('b').node.status().heldDeletes?.reason).toMatch(/15 of 20 files vanished without the watcher seeing it/);
    expect(errors.map((error) => error.code)).toContain('DELETES_HELD');
    expect(await countFiles(a)).toBe(20);

    expect(await running.get('b').node.confirmDeletes()).toBe(15);
    await waitFor(async () => (await countFiles(a)) === 5, 'the confirmed deletes on a');
  });

  it('does not take a file left out of a listing for gone while it is there', async () => {
    cluster = new Cluster('ws', { createWatcher: deafWatcher, limits: { retryDelayMs: 200, rescanIntervalMs: 200 } });
    await cluster.init();
    const a = await cluster.add('a');
    const fileSystem = new LateListingFileSystem(cluster.dirOf('b'));
    const b = await cluster.add('b', { peers: ['a'], fileSystem });
    for (let i = 0; i < 20; i++) await writeFile(join(a.dir, `f${i}.txt`), `file ${i}`);
    await waitFor(async () => (await countFiles(b.dir)) === 20, 'the files on b');
    for (let i = 0; i < 15; i++) fileSystem.hidden.add(`f${i}.txt`);
    const listings = fileSystem.rootListings;
    await waitFor(() => fileSystem.rootListings >= listings + 2, 'a whole rescan of b with the names left out');
    await b.node.whenIdle();
    expect(b.node.status().heldDeletes).toBeNull();
    expect(b.node.status().files).toBe(20);
    expect(await countFiles(a.dir)).toBe(20);
  });
});
