import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
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
