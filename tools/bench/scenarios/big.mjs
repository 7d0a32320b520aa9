// big: one large random file (1 GiB; --quick 256 MiB) from node 0 to node 1, then to nodes 1 and 2.
import { join } from 'node:path';
import { mib, place, stageCopy, verifySame, waitArrival, warmPageCache, withCluster } from '../lib/scenario-kit.mjs';

export const big = {
  name: 'big',
  rivals: ['rsync', 'rsync-fsync', 'syncthing-1s'],
  async run(env, system) {
    const payload = await env.bigPayload();
    const result = { metrics: {}, daemons: {} };
    for (const receivers of [[1], [1, 2]]) {
      const label = receivers.length === 1 ? 'AB' : 'ABC';
      await withCluster(env, system, receivers.length + 1, async (cluster, { staging }) => {
        const staged = stageCopy(payload.path, staging, 'big.bin');
        warmPageCache(staging, payload.size * receivers.length);
        cluster.mark();
        const wire0 = await cluster.wireBytes();
        const t0 = performance.now();
        place(staged, join(cluster.dirs[0], 'big.bin'));
        await cluster.sync(0, receivers);
        const seconds = await waitArrival(receivers.map((i) => join(cluster.dirs[i], 'big.bin')), payload.size, t0, { everyMs: 10 });
        const daemons = cluster.stats();
        const wire = (await cluster.wireBytes()) - wire0;
        await verifySame(join(cluster.dirs[0], 'big.bin'), receivers.map((i) => join(cluster.dirs[i], 'big.bin')));
        result.metrics[`${label}_s`] = seconds;
        result.metrics[`${label}_MiBps`] = Math.round(payload.size / (1024 * 1024) / seconds);
        result.metrics[`${label}_wireMiB`] = mib(wire);
        result.daemons[label] = daemons;
      });
    }
    result.metrics.rssPeakMiB = Math.max(...Object.values(result.daemons).flat().map((d) => d?.rssPeakMiB ?? 0));
    return result;
  },
};
