import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSyncNode } from '../src/index';
import type { SyncNode } from '../src/index';
import { Cluster, waitFor } from './cluster';

const countFiles = async (dir: string): Promise<number> => (await readdir(dir)).filter((name) => name.endsWith('.txt')).length;

describe('deletes found at start-up', () => {
  let cluster: Cluster;
  const extra: SyncNode[] = [];
  beforeEach(async () => {
    cluster = new Cluster('ws');
    await cluster.init();
  });
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((node) => node.stop()));
    await cluster.close();
  });

  it('holds a mass delete until confirmed, and then propagates it', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    for (let i = 0; i < 20; i++) await writeFile(join(a!.dir, `f${i}.txt`), `file ${i}`);
    await waitFor(async () => (await countFiles(b!.dir)) === 20, 'the files on b');
    await cluster.stop('b');
    for (let i = 0; i < 15; i++) await rm(join(b!.dir, `f${i}.txt`));
    const restarted = await cluster.restart('b', ['a']);
    await waitFor(() => restarted.node.status().peers.length === 1, 'b reconnected');
    await restarted.node.whenIdle();
    await a!.node.whenIdle();

    expect(restarted.node.status().heldDeletes).toMatchObject({ count: 15 });
    expect(restarted.node.status().heldDeletes?.reason).toMatch(/15 of 20 files vanished/);
    expect(await countFiles(a!.dir)).toBe(20);

    expect(await restarted.node.confirmDeletes()).toBe(15);
    await waitFor(async () => (await countFiles(a!.dir)) === 5, 'the confirmed deletes on a');
    expect(restarted.node.status().heldDeletes).toBeNull();
  });

  it('leaves a held delete alone when a peer changed that file meanwhile, and pulls the change once confirmed', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    for (let i = 0; i < 20; i++) await writeFile(join(a!.dir, `f${i}.txt`), `file ${i}`);
    await waitFor(async () => (await countFiles(b!.dir)) === 20, 'the files on b');
    await cluster.stop('b');
    for (let i = 0; i < 15; i++) await rm(join(b!.dir, `f${i}.txt`));
    const sequence = a!.node.status().sequence;
    await writeFile(join(a!.dir, 'f0.txt'), 'changed on a');
    await writeFile(join(a!.dir, 'new.txt'), 'new on a');
    await waitFor(() => a!.node.status().sequence >= sequence + 2, 'a indexed both changes');
    const restarted = await cluster.restart('b', ['a']);
    // new.txt arrives with a's index, so b has also heard of a's newer f0.txt by then.
    await waitFor(async () => (await readFile(join(b!.dir, 'new.txt'), 'utf8').catch(() => '')) === 'new on a', 'new.txt on b');
    // Before the fix b pulled f0.txt, found its path gone (not as indexed), asked for a rescan that
    // recorded nothing (the delete is held) and pulled it again, in a loop that never went idle.
    await Promise.race([
      restarted.node.whenIdle(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('b never went idle: a pull loop on a held delete')), 15_000).unref()),
    ]);
    expect(restarted.node.status().heldDeletes).toMatchObject({ count: 15 });
    expect(await readFile(join(b!.dir, 'f0.txt'), 'utf8').catch(() => null)).toBeNull();
    expect(await countFiles(a!.dir)).toBe(21);

    expect(await restarted.node.confirmDeletes()).toBe(15);
    // The change on a beats b's delete of the older f0.txt; the other deletes go through.
    await waitFor(async () => (await readFile(join(b!.dir, 'f0.txt'), 'utf8').catch(() => '')) === 'changed on a', 'the change of f0.txt on b');
    await waitFor(async () => (await countFiles(a!.dir)) === 7, 'the confirmed deletes on a');
    expect(await readFile(join(a!.dir, 'f0.txt'), 'utf8')).toBe('changed on a');
  });

  it('lets a few deletes made while the node was down through at once', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    for (let i = 0; i < 20; i++) await writeFile(join(a!.dir, `f${i}.txt`), `file ${i}`);
    await waitFor(async () => (await countFiles(b!.dir)) === 20, 'the files on b');
    await cluster.stop('b');
    for (let i = 0; i < 3; i++) await rm(join(b!.dir, `f${i}.txt`));
    await cluster.restart('b', ['a']);
    await waitFor(async () => (await countFiles(a!.dir)) === 17, 'the deletes on a');
  });

  it('holds every delete when the folder marker is gone (an unmounted volume with the state dir elsewhere)', async () => {
    const [a] = await cluster.mesh(['a']);
    const dir = cluster.dirOf('volume');
    const stateDir = cluster.dirOf('volume-state');
    const options = { dir, stateDir, nodeId: 'v', secret: 'test-secret', listen: null, peers: [a!.url], quietPeriodMs: 10 };
    let node = createSyncNode(options);
    await node.start();
    for (let i = 0; i < 4; i++) await writeFile(join(a!.dir, `f${i}.txt`), `file ${i}`);
    await waitFor(async () => (await countFiles(dir).catch(() => 0)) === 4, 'the files on the volume');
    await node.stop();

    // The volume is "unmounted": an empty directory where it was, marker and all gone.
    await rm(dir, { recursive: true });
    await mkdir(dir);
    node = createSyncNode(options);
    extra.push(node);
    const errors: string[] = [];
    node.on('error', (error) => errors.push(error.code));
    await node.start();
    await waitFor(() => node.status().peers.length === 1, 'connected');
    await node.whenIdle();
    await a!.node.whenIdle();
    expect(node.status().heldDeletes?.reason).toMatch(/folder marker .* is missing/);
    expect(errors).toContain('DELETES_HELD');
    expect(node.status().files).toBe(4);
    expect(await countFiles(a!.dir)).toBe(4);
  });
});
