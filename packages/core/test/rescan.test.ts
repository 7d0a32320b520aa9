import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Watcher } from '@sync/watcher';
import type { SyncError } from '../src/index';
import { NodeFileSystem } from '../src/node-file-system';
import { Cluster, waitFor } from './cluster';
import type { TestNode } from './cluster';

/** A watcher that reports nothing after it starts: every change is missed, as on an inotify queue overflow. */
const deafWatcher = (): Watcher => ({
  start: () => Promise.resolve(),
  on: () => () => {},
  close: () => Promise.resolve(),
});

/** Leaves `hidden` names out of listings, as a listing taken just before the puller renamed them into place would. */
class LateListingFileSystem extends NodeFileSystem {
  readonly hidden = new Set<string>();
  /** Listings to answer once, as taken just before what they list went away. */
  readonly stale = new Map<string, Awaited<ReturnType<NodeFileSystem['readdir']>>>();
  rootListings = 0;

  constructor(private readonly root: string) {
    super();
  }

  override async readdir(path: string): ReturnType<NodeFileSystem['readdir']> {
    if (path === this.root) this.rootListings++;
    const stale = this.stale.get(path);
    this.stale.delete(path);
    return (stale ?? (await super.readdir(path))).filter((entry) => !this.hidden.has(entry.name));
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

  /** b lists its folder through a LateListingFileSystem. */
  async function lateListingPair(rescanIntervalMs: number): Promise<{ a: TestNode; b: TestNode; fileSystem: LateListingFileSystem }> {
    cluster = new Cluster('ws', { createWatcher: deafWatcher, limits: { retryDelayMs: 200, rescanIntervalMs } });
    await cluster.init();
    const a = await cluster.add('a');
    const fileSystem = new LateListingFileSystem(cluster.dirOf('b'));
    const b = await cluster.add('b', { peers: ['a'], fileSystem });
    return { a, b, fileSystem };
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
    // Rescans on demand only, so none races the unmount.
    const [a, b, running] = await deafMesh(0);
    const nodeB = running.get('b').node;
    await mkdir(join(a, 'vol'));
    for (let i = 0; i < 15; i++) await writeFile(join(a, 'vol', `f${i}.txt`), `file ${i}`);
    for (let i = 0; i < 5; i++) await writeFile(join(a, `g${i}.txt`), `file ${i}`);
    await running.get('a').node.rescan();
    await waitFor(async () => (await countFiles(b)) === 5 && (await countFiles(join(b, 'vol')).catch(() => 0)) === 15, 'the files on b');
    await nodeB.whenIdle();
    const errors: SyncError[] = [];
    nodeB.on('error', (error) => errors.push(error));
    await rename(join(b, 'vol'), running.dirOf('elsewhere'));
    await nodeB.rescan();
    expect(nodeB.status().heldDeletes).toEqual({ count: 16, reason: '16 of 21 files vanished without the watcher seeing it (found by a rescan): deletes held' });
    expect(errors.map((error) => error.code)).toEqual(['DELETES_HELD']);
    await nodeB.whenIdle();
    expect(await countFiles(join(a, 'vol'))).toBe(15);

    expect(await nodeB.confirmDeletes()).toBe(16);
    await waitFor(async () => (await readdir(a)).every((name) => name !== 'vol'), 'the confirmed deletes on a');
    expect(await countFiles(a)).toBe(5);
  });

  it('does not take a file left out of a listing for gone while it is there', async () => {
    const { a, b, fileSystem } = await lateListingPair(200);
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

  it('holds files that vanish between the listing and their lstat with the rest, instead of publishing them one by one', async () => {
    const { a, b, fileSystem } = await lateListingPair(0);
    for (let i = 0; i < 20; i++) await writeFile(join(a.dir, `f${i}.txt`), `file ${i}`);
    await a.node.rescan();
    await waitFor(async () => (await countFiles(b.dir)) === 20, 'the files on b');
    await b.node.whenIdle();
    fileSystem.stale.set(b.dir, await fileSystem.readdir(b.dir));
    for (let i = 0; i < 15; i++) await rm(join(b.dir, `f${i}.txt`));
    await b.node.rescan();
    expect(b.node.status().heldDeletes?.count).toBe(15);
    await b.node.whenIdle();
    expect(await countFiles(a.dir)).toBe(20);
  });

  it('holds a directory that vanishes after its parent was listed together with its files', async () => {
    const { a, b, fileSystem } = await lateListingPair(0);
    await mkdir(join(a.dir, 'vol'));
    for (let i = 0; i < 15; i++) await writeFile(join(a.dir, 'vol', `f${i}.txt`), `file ${i}`);
    for (let i = 0; i < 5; i++) await writeFile(join(a.dir, `g${i}.txt`), `file ${i}`);
    await a.node.rescan();
    await waitFor(async () => (await countFiles(join(b.dir, 'vol')).catch(() => 0)) === 15 && (await countFiles(b.dir)) === 5, 'the files on b');
    await b.node.whenIdle();
    fileSystem.stale.set(b.dir, await fileSystem.readdir(b.dir));
    await rename(join(b.dir, 'vol'), join(b.dir, '..', 'elsewhere'));
    await b.node.rescan();
    expect(b.node.status().heldDeletes?.count).toBe(16);
    await b.node.whenIdle();
    expect(await countFiles(join(a.dir, 'vol'))).toBe(15);
  });
});
