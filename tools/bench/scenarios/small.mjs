// small: 10,000 files of 4 KiB in 100 directories (--quick 2,000) appear on node 0 at once (one
// directory rename); until node 1 holds them all, each file checked by hash afterwards.
import { join } from 'node:path';
import { mkdirSync, renameSync } from 'node:fs';
import { verifyManifest, writeTree } from '../lib/files.mjs';
import { mib, waitCount, withCluster } from '../lib/scenario-kit.mjs';
import { round, waitFor } from '../lib/proc.mjs';

export const small = {
  name: 'small',
  rivals: ['rsync', 'rsync-fsync', 'syncthing', 'syncthing-1s'],
  async run(env, system) {
    const count = env.quick ? 2_000 : 10_000;
    return withCluster(env, system, 2, async (cluster, { staging }) => {
      const tree = join(staging, 'tree');
      mkdirSync(tree);
      const inner = writeTree(tree, { count, dirs: 100, size: 4096 });
      const manifest = Object.fromEntries(Object.entries(inner).map(([rel, hash]) => [`tree/${rel}`, hash]));
      cluster.mark();
      const wire0 = await cluster.wireBytes();
      const t0 = performance.now();
      renameSync(tree, join(cluster.dirs[0], 'tree'));
      await cluster.sync(0, [1]);
      const seconds = cluster.live ? await waitCount(cluster, [1], count, t0, { everyMs: 50 }) : round((performance.now() - t0) / 1000, 4);
      const daemons = cluster.stats();
      await waitFor('settled', async () => (await cluster.idle(0)) && (await cluster.idle(1)), { timeoutMs: 120_000 });
      const wire = (await cluster.wireBytes()) - wire0;
      const problem = await verifyManifest(cluster.dirs[1], manifest);
      if (problem) throw new Error(`small: ${system.name}: ${problem}`);
      return { metrics: { files: count, s: seconds, filesPerS: Math.round(count / seconds), wireMiB: mib(wire) }, daemons };
    });
  },
};
