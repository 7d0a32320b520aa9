// delete: a synced tree of 10,000 files of 4 KiB in 100 directories (--quick 2,000) removed on
// node 0 at once (rm -rf); until node 1 holds none. Not one of the scenarios: it keeps the
// cost of a large delete in view (a pass over every record per deleted directory made it
// quadratic once; BENCHMARKS.md).
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeTree } from '../lib/files.mjs';
import { waitCount, withCluster } from '../lib/scenario-kit.mjs';
import { round, waitFor } from '../lib/proc.mjs';

export const deleteTree = {
  name: 'delete',
  rivals: ['rsync', 'rsync-fsync', 'syncthing-1s'],
  async run(env, system) {
    const count = env.quick ? 2_000 : 10_000;
    return withCluster(env, system, 2, async (cluster, { staging }) => {
      const tree = join(staging, 'tree');
      mkdirSync(tree);
      writeTree(tree, { count, dirs: 100, size: 4096 });
      renameSync(tree, join(cluster.dirs[0], 'tree'));
      const t0Sync = performance.now();
      await cluster.sync(0, [1]);
      if (cluster.live) await waitCount(cluster, [1], count, t0Sync, { everyMs: 100 });
      await waitFor('settled', async () => (await cluster.idle(0)) && (await cluster.idle(1)), { timeoutMs: 300_000 });
      cluster.mark();
      const t0 = performance.now();
      rmSync(join(cluster.dirs[0], 'tree'), { recursive: true });
      await cluster.sync(0, [1]);
      const seconds = cluster.live ? await waitCount(cluster, [1], 0, t0, { everyMs: 50 }) : round((performance.now() - t0) / 1000, 4);
      const daemons = cluster.stats();
      await waitFor('the tree gone on node 1', () => !existsSync(join(cluster.dirs[1], 'tree')), { timeoutMs: 120_000 });
      return { metrics: { files: count, s: seconds, filesPerS: Math.round(count / seconds) }, daemons };
    });
  },
};
