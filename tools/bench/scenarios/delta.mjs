// delta: 1 MiB overwritten in the middle of the synced big file; time and bytes on the wire.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { identity } from '../lib/files.mjs';
import { mib, place, stageCopy, verifySame, waitArrival, warmPageCache, withCluster } from '../lib/scenario-kit.mjs';
import { waitFor } from '../lib/proc.mjs';

/** Syncs the big payload from node 0 to node 1 (not timed) and hands over the cluster. */
export async function withSyncedBig(env, system, body) {
  const payload = await env.bigPayload();
  return withCluster(env, system, 2, async (cluster, dirs) => {
    const staged = stageCopy(payload.path, dirs.staging, 'big.bin');
    place(staged, join(cluster.dirs[0], 'big.bin'));
    await cluster.sync(0, [1]);
    await waitArrival([join(cluster.dirs[1], 'big.bin')], payload.size, performance.now(), { everyMs: 20 });
    await waitFor('settled', async () => (await cluster.idle(0)) && (await cluster.idle(1)), { timeoutMs: 120_000 });
    // rsync's quick check compares whole-second mtimes: a change within the second of the
    // first sync would look unchanged to it. Pacing only; nothing is timed yet.
    await sleep(1_100);
    return body(cluster, payload, dirs);
  });
}

export const delta = {
  name: 'delta',
  rivals: ['rsync', 'rsync-fsync', 'syncthing-1s'],
  async run(env, system) {
    return withSyncedBig(env, system, async (cluster, payload, { staging }) => {
      const source = join(cluster.dirs[0], 'big.bin');
      const target = join(cluster.dirs[1], 'big.bin');
      const before = identity(target);
      const patch = randomBytes(1024 * 1024);
      // The receiver (ours, and rsync) writes a whole new copy of the file.
      warmPageCache(staging, payload.size);
      cluster.mark();
      const wire0 = await cluster.wireBytes();
      const counters0 = (await cluster.engineCounters?.()) ?? null;
      const t0 = performance.now();
      const fd = openSync(source, 'r+');
      writeSync(fd, patch, 0, patch.length, Math.floor(payload.size / 2) - patch.length / 2);
      closeSync(fd);
      await cluster.sync(0, [1]);
      const seconds = await waitArrival([target], payload.size, t0, { not: [before], everyMs: 5 });
      const daemons = cluster.stats();
      await waitFor('settled', async () => (await cluster.idle(0)) && (await cluster.idle(1)), { timeoutMs: 60_000 });
      const wire = (await cluster.wireBytes()) - wire0;
      const counters = (await cluster.engineCounters?.()) ?? null;
      await verifySame(source, [target]);
      return {
        metrics: {
          s: seconds,
          wireMiB: mib(wire),
          ...(counters ? { blockMiB: mib(counters.bytesReceived - counters0.bytesReceived) } : {}),
        },
        daemons,
      };
    });
  },
};
