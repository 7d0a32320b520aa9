import { afterEach, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cluster, waitFor } from './cluster';

describe('limits on what a peer can make a node hold', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
  });

  it('disconnects a peer whose index is over peerRecordsMax, with a reason', async () => {
    cluster = new Cluster('memory', { limits: { peerRecordsMax: 5, retryDelayMs: 200 } });
    await cluster.init();
    const a = await cluster.add('a');
    for (let i = 0; i < 10; i++) await writeFile(join(a.dir, `f${i}.txt`), `file ${i}`);
    await a.node.whenIdle();
    const b = await cluster.add('b');
    const errors: string[] = [];
    const reasons: string[] = [];
    b.node.on('error', (error) => errors.push(error.message));
    a.node.on('peer-disconnected', (event) => reasons.push(event.reason));
    b.node.addPeer(a.url);
    await waitFor(() => errors.some((m) => m.includes('more than 5 records')), 'the limit to trip');
    await waitFor(() => reasons.some((r) => r.includes('index over the limit of 5 records')), 'a to hear why');
    expect(b.node.status().files).toBe(0);
  });
});
