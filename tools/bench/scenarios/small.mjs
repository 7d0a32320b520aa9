// small: 10,000 files of 4 KiB in 100 directories (--quick 2,000) appear on node 0 at once (one
// directory rename); until node 1 holds them all, each file checked by hash afterwards. Then a
// second tree of as many files the same way (`warmS`): the same daemons, now past their start-up
// (for ours, V8 has compiled the hot paths by then; a node that has run a while syncs like this).
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
      const trees = ['tree', 'tree2'].map((name) => {
        const root = join(staging, name);
        mkdirSync(root);
        const inner = writeTree(root, { count, dirs: 100, size: 4096 });
        return { name, root, manifest: Object.fromEntries(Object.entries(inner).map(([rel, hash]) => [`${name}/${rel}`, hash])) };
      });
      cluster.mark();
      const wire0 = await cluster.wireBytes();
      const seconds = await syncTree(cluster, trees[0], count);
      const daemons = cluster.stats();
      const wire = (await cluster.wireBytes()) - wire0;
      await verify(cluster, system, trees[0].manifest);
      const warmSeconds = await syncTree(cluster, trees[1], 2 * count);
      await verify(cluster, system, trees[1].manifest);
      return { metrics: { files: count, s: seconds, filesPerS: Math.round(count / seconds), wireMiB: mib(wire), warmS: warmSeconds }, daemons };
    });
  },
};

/** Moves a staged tree into node 0; the seconds until node 1 holds `total` files. */
async function syncTree(cluster, tree, total) {
  const t0 = performance.now();
  renameSync(tree.root, join(cluster.dirs[0], tree.name));
  await cluster.sync(0, [1]);
  return cluster.live ? await waitCount(cluster, [1], total, t0, { everyMs: 50 }) : round((performance.now() - t0) / 1000, 4);
}

async function verify(cluster, system, manifest) {
  await waitFor('settled', async () => (await cluster.idle(0)) && (await cluster.idle(1)), { timeoutMs: 120_000 });
  const problem = await verifyManifest(cluster.dirs[1], manifest);
  if (problem) throw new Error(`small: ${system.name}: ${problem}`);
}
