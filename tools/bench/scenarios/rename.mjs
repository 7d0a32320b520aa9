// rename: the synced big file moved into another directory; time and bytes on the wire.
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mib, verifySame, waitArrival } from '../lib/scenario-kit.mjs';
import { waitFor } from '../lib/proc.mjs';
import { withSyncedBig } from './delta.mjs';

function gone(path) {
  try {
    statSync(path);
    return false;
  } catch {
    return true;
  }
}

export const rename = {
  name: 'rename',
  rivals: ['rsync', 'rsync-fsync', 'syncthing-1s'],
  async run(env, system) {
    return withSyncedBig(env, system, async (cluster, payload) => {
      mkdirSync(join(cluster.dirs[0], 'moved'));
      await cluster.sync(0, [1]);
      await waitFor('directory synced', () => {
        try {
          return statSync(join(cluster.dirs[1], 'moved')).isDirectory();
        } catch {
          return false;
        }
      });
      await waitFor('settled', async () => (await cluster.idle(0)) && (await cluster.idle(1)), { timeoutMs: 60_000 });
      cluster.mark();
      const wire0 = await cluster.wireBytes();
      const t0 = performance.now();
      renameSync(join(cluster.dirs[0], 'big.bin'), join(cluster.dirs[0], 'moved', 'big.bin'));
      await cluster.sync(0, [1]);
      const arrived = await waitArrival([join(cluster.dirs[1], 'moved', 'big.bin')], payload.size, t0, { everyMs: 5 });
      await waitFor('old name removed', () => gone(join(cluster.dirs[1], 'big.bin')), { everyMs: 5, timeoutMs: 120_000 });
      const seconds = Math.max(arrived, (performance.now() - t0) / 1000);
      const daemons = cluster.stats();
      await waitFor('settled', async () => (await cluster.idle(0)) && (await cluster.idle(1)), { timeoutMs: 60_000 });
      const wire = (await cluster.wireBytes()) - wire0;
      await verifySame(join(cluster.dirs[0], 'moved', 'big.bin'), [join(cluster.dirs[1], 'moved', 'big.bin')]);
      return { metrics: { s: Math.round(seconds * 1e4) / 1e4, wireMiB: mib(wire) }, daemons };
    });
  },
};
